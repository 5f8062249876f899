import Foundation
import Testing

/// One `smear validate IMAGES --truth cells.csv --out DIR` run per fixture set (printed table plus
/// validation.json), shared by the tests below.
let validationRuns: [String: OutputRun] = {
    var runs: [String: OutputRun] = [:]
    for set in Fixture.sets {
        runs[set] = OutputRun(["validate", Fixture.images(set), "--truth", Fixture.truth(set)])
    }
    return runs
}()

/// The table `smear validate` prints, rebuilt from its validation.json (format of README.md).
func expectedTable(_ v: ValidationJSON) -> String {
    let nameWidth = max(5, min(40, v.images.map(\.image.count).max() ?? 5))
    func right(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
    func left(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
    var out = left("image", nameWidth) + right("annotated", 11) + right("detected", 10) + right("matched", 9)
        + right("recall", 8) + right("precision", 11) + right("ratio", 7) + "\n"
    for r in v.images {
        out += left(r.image, nameWidth) + right(String(r.annotated), 11) + right(String(r.detected), 10)
            + right(String(r.matched), 9) + right(fixed(r.recall), 8) + right(fixed(r.precision), 11) + right(fixed(r.countRatio), 7) + "\n"
    }
    let o = v.overall
    out += "\n"
    out += "images \(o.images), annotated cells \(o.annotated), detected \(o.detected), matched \(o.matched)\n"
    out += "recall \(fixed(o.recall)), precision \(fixed(o.precision)) (a lower bound where not every cell is annotated), count ratio detected/annotated \(fixed(o.countRatio))\n"
    out += "count ratio on the \(o.denseImages) fields with >= \(o.denseThreshold) annotated cells: \(fixed(o.denseCountRatio))\n"
    if o.leukocytesAnnotated > 0 {
        out += "leukocytes annotated \(o.leukocytesAnnotated): excluded from the count \(percent(o.leukocyteExclusionRate)), identified as leukocytes \(percent(o.leukocyteIdentificationRate))\n"
    }
    if o.sensitivity != nil || o.specificity != nil {
        let tp = o.truePositives ?? 0, fn = o.falseNegatives ?? 0, tn = o.trueNegatives ?? 0, fp = o.falsePositives ?? 0
        out += "parasitized cells (matched cells only): sensitivity \(fixed(o.sensitivity)) (\(tp) of \(tp + fn)), specificity \(o.specificity.map { String(format: "%.4f", $0) } ?? "-") (\(fp) false positives in \(tn + fp))\n"
    }
    if let p = o.predictedParasitemiaPercent {
        out += "parasitemia: predicted \(String(format: "%.3f%%", p)), annotated \(o.annotatedParasitemiaPercent.map { String(format: "%.3f%%", $0) } ?? "-"); median absolute error per image \(o.medianAbsoluteParasitemiaErrorPercent.map { String(format: "%.3f", $0) } ?? "-") percentage points\n"
        out += "images with a parasitized call: \(o.imagesWithParasitizedCalls ?? 0) of \(o.images)\n"
        if let a = o.adjustedPredictedParasitemiaPercent, let e = o.adjustedMedianAbsoluteParasitemiaErrorPercent {
            out += "adjusted for the classifier's errors (operating point): predicted \(String(format: "%.3f%%", a)); median absolute error per image \(String(format: "%.3f", e)) percentage points\n"
        }
        out += "(annotated parasitemia counts annotated cells only: where not every cell is annotated it is an approximation)\n"
    }
    return out
}

@Suite("smear validate on the fixture sets")
struct ValidateTests {
    @Test("prints the table, writes validation.json, validation.csv and overlays", arguments: Fixture.sets)
    func output(set: String) throws {
        let result = try #require(validationRuns[set])
        #expect(result.run.status == 0, "\(result.run)")
        let names = Fixture.imageNames(set)
        #expect(result.listing == ([".smear-files", ".smear-lock", "overlays/", "validation.csv", "validation.json"]
            + names.map { "overlays/\(stem($0)).png" }).sorted())
        let v = try ValidationJSON.decode(result.files["validation.json"])
        #expect(v.images.map(\.image) == names)
        #expect(v.failures.isEmpty)
        #expect(result.run.stdoutText == expectedTable(v))
        // Progress on standard error only.
        #expect(result.run.stderrLines.count == names.count)
        #expect(result.run.stderrLines.allSatisfy { $0.hasPrefix("[") && $0.contains("/\(names.count)] ") }, "\(result.run.stderr)")
    }

    @Test("the table's header is exactly as documented")
    func header() throws {
        let result = try #require(validationRuns["iml-malaria"])
        #expect(result.run.stdoutText.components(separatedBy: "\n").first
            == "image         annotated  detected  matched  recall  precision  ratio")
    }

    @Test("the figures are consistent with each other and with validation.csv", arguments: Fixture.sets)
    func consistent(set: String) throws {
        let result = try #require(validationRuns[set])
        let v = try ValidationJSON.decode(result.files["validation.json"])
        for r in v.images {
            #expect(r.matched <= min(r.annotated, r.detected), "\(r.image)")
            #expect(r.recall.map { abs($0 - Double(r.matched) / Double(r.annotated)) < 1e-9 } ?? (r.annotated == 0))
            #expect(r.precision.map { abs($0 - Double(r.matched) / Double(r.detected)) < 1e-9 } ?? (r.detected == 0))
            #expect(r.leukocytesExcluded <= r.leukocytesAnnotated && r.leukocytesIdentified <= r.leukocytesAnnotated)
        }
        let o = v.overall
        #expect(o.images == v.images.count)
        #expect(o.annotated == v.images.reduce(0) { $0 + $1.annotated })
        #expect(o.detected == v.images.reduce(0) { $0 + $1.detected })
        #expect(o.matched == v.images.reduce(0) { $0 + $1.matched })
        #expect(o.leukocytesAnnotated == v.images.reduce(0) { $0 + $1.leukocytesAnnotated })

        let rows = parseCSV(result.text("validation.csv"))
        #expect(rows.first == ["image", "annotated", "detected", "matched", "recall", "precision", "count_ratio",
                               "leukocytes_annotated", "leukocytes_excluded", "leukocytes_identified",
                               "predicted_parasitemia_percent", "annotated_parasitemia_percent", "parasitemia_abs_error_percent",
                               "tp", "fn", "tn", "fp"])
        try #require(rows.count == v.images.count + 2, "\(rows)")
        func int(_ v: Int?) -> String { v.map(String.init) ?? "" }
        for (row, r) in zip(rows.dropFirst(), v.images) {
            #expect(row == [r.image, String(r.annotated), String(r.detected), String(r.matched), fixed(r.recall),
                            fixed(r.precision), fixed(r.countRatio), String(r.leukocytesAnnotated),
                            String(r.leukocytesExcluded), String(r.leukocytesIdentified),
                            fixed(r.predictedParasitemiaPercent), fixed(r.annotatedParasitemiaPercent),
                            fixed(r.parasitemiaAbsoluteErrorPercent), int(r.truePositives), int(r.falseNegatives),
                            int(r.trueNegatives), int(r.falsePositives)])
            // The classifier's figures agree with each other.
            if let p = r.predictedParasitemiaPercent, let a = r.annotatedParasitemiaPercent {
                #expect(abs((r.parasitemiaAbsoluteErrorPercent ?? -1) - abs(p - a)) < 1e-9, "\(r.image)")
            }
        }
        if let tp = o.truePositives, let fn = o.falseNegatives, tp + fn > 0 {
            #expect(abs((o.sensitivity ?? -1) - Double(tp) / Double(tp + fn)) < 1e-9)
        }
        #expect(rows.last.map { Array($0.prefix(7)) } == ["OVERALL", String(o.annotated), String(o.detected), String(o.matched),
                                                           fixed(o.recall), fixed(o.precision), fixed(o.countRatio)])
    }

    @Test("validate detects the same cells as analyze", arguments: Fixture.sets)
    func sameAsAnalyze(set: String) throws {
        let v = try ValidationJSON.decode(try #require(validationRuns[set]).files["validation.json"])
        let report = try Report.decode(fixtureAnalysis.files["report.json"])
        for r in v.images {
            guard let image = report.images.first(where: { $0.file == Fixture.images(set) + "/" + r.image }) else { continue }
            #expect(r.detected == image.cellsCounted, "\(r.image)")
        }
    }

    @Test("IML-Malaria: recall at least 0.9, count within 0.8–1.3 of the annotations")
    func imlCounts() throws {
        let v = try ValidationJSON.decode(try #require(validationRuns["iml-malaria"]).files["validation.json"])
        #expect(v.overall.annotated > 200)
        #expect(try #require(v.overall.recall) >= 0.9)
        let ratio = try #require(v.overall.countRatio)
        #expect(ratio >= 0.8 && ratio <= 1.3, "count ratio \(ratio)")
    }

    @Test("Chula RBC-12: recall at least 0.85, count within 0.8–1.3 on densely labelled fields")
    func chulaCounts() throws {
        let v = try ValidationJSON.decode(try #require(validationRuns["chula-rbc12"]).files["validation.json"])
        #expect(try #require(v.overall.recall) >= 0.85)
        #expect(v.overall.denseImages == v.images.count, "the chula fixtures are meant to be densely labelled fields")
        let ratio = try #require(v.overall.denseCountRatio)
        #expect(ratio >= 0.8 && ratio <= 1.3, "count ratio \(ratio)")
    }

    @Test("BCCD: every annotated leukocyte is excluded from the count")
    func bccdLeukocytes() throws {
        let v = try ValidationJSON.decode(try #require(validationRuns["bccd"]).files["validation.json"])
        #expect(v.overall.leukocytesAnnotated >= 2)
        for r in v.images { #expect(r.leukocytesExcluded == r.leukocytesAnnotated, "\(r.image)") }
        #expect(v.overall.leukocyteExclusionRate == 1)
    }

    @Test("--json prints validation.json; --summary prints only the overall lines")
    func jsonAndSummary() throws {
        let saved = try #require(validationRuns["bccd"])
        let json = smear(["validate", Fixture.images("bccd"), "--truth", Fixture.truth("bccd"), "--json"])
        #expect(json.status == 0, "\(json)")
        #expect(json.stdout == saved.files["validation.json"])
        let summary = smear(["validate", Fixture.images("bccd"), "--truth", Fixture.truth("bccd"), "--summary"])
        #expect(summary.status == 0, "\(summary)")
        let table = saved.run.stdoutText
        let overall = table.components(separatedBy: "\n\n").dropFirst().joined(separator: "\n\n")
        #expect(summary.stdoutText == overall)
        #expect(summary.stdoutText.hasPrefix("images 2, "))
    }

    @Test("validation.json has the same keys with and without a classifier; figures without a value are null")
    func stableKeys() throws {
        let saved = try #require(validationRuns["bccd"])
        let plain = smear(["validate", Fixture.images("bccd"), "--truth", Fixture.truth("bccd"), "--no-classify", "--json"])
        #expect(plain.status == 0, "\(plain)")
        let topKeys: Set = ["tool", "rules", "classifier", "threshold", "operating_point", "classification_note", "images", "failures", "overall"]
        #expect(try jsonKeys(plain.stdout) == topKeys)
        #expect(try jsonKeys(saved.files["validation.json"]) == topKeys)
        for path in ["images", "overall"] {
            #expect(try jsonKeys(plain.stdout, path) == jsonKeys(saved.files["validation.json"], path), "\(path)")
        }
        let object = try #require(try JSONSerialization.jsonObject(with: plain.stdout) as? [String: Any])
        #expect(object["classifier"] is NSNull && object["threshold"] is NSNull && object["operating_point"] is NSNull)
        let overall = try #require(object["overall"] as? [String: Any])
        #expect(overall["sensitivity"] is NSNull && overall["images_with_parasitized_calls"] is NSNull)
        #expect(overall["recall"] is Double)
    }

    @Test("bad annotation files and image folders: one line naming the file, exit 1")
    func badInput() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let notCSV = folder.appendingPathComponent("notes.csv").path
        try "just some notes\n".write(toFile: notCSV, atomically: true, encoding: .utf8)
        let other = folder.appendingPathComponent("other.csv").path
        try "image,x,y,width,height,class,source_label\nnot-here.jpg,1,2,,,uninfected,x\n".write(toFile: other, atomically: true, encoding: .utf8)
        let malformed = folder.appendingPathComponent("bad.csv").path
        try "image,x,y,width,height,class,source_label\n263.jpg,1,2,,,martian,x\n".write(toFile: malformed, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--truth", notCSV], "\(notCSV): not an annotation file"),
            (["--truth", other], "\(Fixture.images("chula-rbc12")): no image in this folder is named in \(other)"),
            (["--truth", malformed], "\(malformed): line 2 is malformed"),
            (["--truth", folder.appendingPathComponent("missing.csv").path], "missing.csv"),
        ]
        for (options, message) in cases {
            let run = smear(["validate", Fixture.images("chula-rbc12")] + options)
            #expect(run.status == 1, "\(run)")
            #expect(run.stderrLines.count == 1 && run.stderr.contains(message), "\(run)")
            #expect(run.stdout.isEmpty)
        }
    }
}
