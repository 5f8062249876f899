import Foundation
import Testing

/// `smear calibrate` end to end, then a calibrated model in `analyze` and `validate`: the operating
/// point's threshold and symmetries become the defaults, and every parasitemia gets its adjusted twin
/// only while the run uses that operating point.
@Suite("smear calibrate and the operating point")
struct CalibrateTests {
    /// A cv.json as `smear cv` writes it (only the parts calibrate reads, with its snake_case keys): three
    /// folds, a plain threshold table and the averaged figures of 4 symmetries.
    static let cvJSON = """
        {
          "folds" : [ { "fold" : 0 }, { "fold" : 1 }, { "fold" : 2 } ],
          "thresholds" : [
            { "threshold" : 0.5, "sources" : [ { "name" : "IML", "images" : 1000, "positives" : 20, "called_positive" : 22, "sensitivity" : 0.9, "specificity" : 0.996 } ] },
            { "threshold" : 0.6, "sources" : [ { "name" : "IML", "images" : 1000, "positives" : 20, "called_positive" : 20, "sensitivity" : 0.85, "specificity" : 0.997 } ] }
          ],
          "test_time_symmetries" : [
            { "symmetries" : 4, "sources" : [ { "name" : "IML", "images" : 1000, "positives" : 20, "called_positive" : 21, "sensitivity" : 0.95, "specificity" : 0.997 } ] }
          ]
        }
        """

    /// `cvJSON` as FOLDER/cv.json and a copy of the bundled model as FOLDER/m.smnet; their paths.
    static func prepare(_ folder: URL) throws -> (cv: String, model: String) {
        let cv = folder.appendingPathComponent("cv.json").path, model = folder.appendingPathComponent("m.smnet").path
        try Data(cvJSON.utf8).write(to: URL(fileURLWithPath: cv))
        try FileManager.default.copyItem(atPath: "Sources/Classifier/Resources/cells.smnet", toPath: model)
        return (cv, model)
    }

    @Test("calibrate writes the point; analyze and validate use it by default and adjust the parasitemia")
    func calibrateThenAnalyze() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let (cv, model) = try Self.prepare(folder)
        let run = smear(["calibrate", model, "--cv", cv, "--source", "IML", "--symmetries", "4"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText == "\(model): threshold 0.5, 4 symmetries, sensitivity 0.9500, specificity 0.9970 on 20 and 980 cells (grouped 3-fold cross-validation, out-of-fold IML cells (1000, 20 parasitized))\n")

        let counted = smear(["calibrate", model, "--cv", cv, "--source", "IML", "--symmetries", "4", "--cells", "404,27220",
                             "--out", folder.appendingPathComponent("c.smnet").path])
        #expect(counted.status == 0 && counted.stdoutText.contains("on 404 and 27220 cells"), "\(counted)")

        let out = folder.appendingPathComponent("out").path
        let analysis = smear(["analyze", Fixture.images("iml-malaria"), "--model", model, "--out", out])
        #expect(analysis.status == 0, "\(analysis)")
        let report = try Report.decode(FileManager.default.contents(atPath: out + "/report.json"))
        #expect(report.settings.threshold == 0.5 && report.settings.symmetries == 4)
        #expect(report.settings.operatingPoint == .init(symmetries: 4, threshold: 0.5, sensitivity: 0.95, specificity: 0.997,
                                                        measuredOn: "grouped 3-fold cross-validation, out-of-fold IML cells (1000, 20 parasitized)"))
        let raw = try #require(report.totals.parasitemiaPercent), adjusted = try #require(report.totals.adjustedParasitemiaPercent)
        #expect(abs(adjusted - max(0, 100 * (raw / 100 - 0.003) / 0.947)) < 0.002, "raw \(raw), adjusted \(adjusted)")
        #expect(analysis.stderr.contains("adjusted for the classifier's errors"))
        let page = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(page.contains("Rogan–Gladen") && page.contains("Test-time symmetries"))

        // Another threshold or other symmetries: the rates do not hold there, so no adjusted figure.
        for options in [["--threshold", "0.6"], ["--symmetries", "1"]] {
            let other = folder.appendingPathComponent("other").path
            let run = smear(["analyze", Fixture.images("iml-malaria"), "--model", model, "--out", other] + options)
            #expect(run.status == 0, "\(run)")
            let r = try Report.decode(FileManager.default.contents(atPath: other + "/report.json"))
            #expect(r.settings.operatingPoint == nil && r.totals.adjustedParasitemiaPercent == nil, "\(options)")
            #expect(!run.stderr.contains("adjusted"))
        }

        let validation = smear(["validate", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"), "--model", model, "--json"])
        #expect(validation.status == 0, "\(validation)")
        let object = try #require(try JSONSerialization.jsonObject(with: validation.stdout) as? [String: Any])
        let overall = try #require(object["overall"] as? [String: Any])
        let predicted = try #require(overall["predicted_parasitemia_percent"] as? Double)
        let adjustedPooled = try #require(overall["adjusted_predicted_parasitemia_percent"] as? Double)
        #expect(abs(adjustedPooled - max(0, 100 * (predicted / 100 - 0.003) / 0.947)) < 1e-9)
        #expect((object["operating_point"] as? [String: Any])?["symmetries"] as? Int == 4)
    }

    @Test("errors are one line and leave the model as it was")
    func errors() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let (cv, model) = try Self.prepare(folder)
        let before = FileManager.default.contents(atPath: model)
        let cases: [([String], String)] = [
            (["--source", "Chula"], "\(cv): no images of source 'Chula'"),
            (["--source", "IML", "--symmetries", "8"], "\(cv): no figures for 8 symmetries (smear cv measures 2, 4 and 8)"),
            (["--source", "IML", "--threshold", "0.55"], "\(cv): threshold 0.55 is not in its table (0.5, 0.6)"),
            (["--source", "IML", "--symmetries", "4", "--threshold", "0.6"], "\(cv): no threshold table for 4 symmetries holds 0.6"),
        ]
        for (options, message) in cases {
            let run = smear(["calibrate", model, "--cv", cv] + options)
            #expect(run.status == 1 && run.stderrLines == ["Error: " + message], "\(run)")
        }
        let cells = smear(["calibrate", model, "--cv", cv, "--source", "IML", "--cells", "20"])
        #expect(cells.status == 64 && cells.stderrLines.first == "Error: --cells: give POSITIVES,NEGATIVES, each at least 1", "\(cells)")
        let usage = smear(["calibrate", model, "--cv", cv, "--source", "IML", "--symmetries", "3"])
        #expect(usage.status == 64 && usage.stderrLines.first == "Error: --symmetries must be 1, 2, 4 or 8", "\(usage)")
        let analyze = smear(["analyze", Fixture.images("bccd"), "--symmetries", "5", "--out", folder.appendingPathComponent("x").path])
        #expect(analyze.status == 64 && analyze.stderrLines.first == "Error: --symmetries must be 1, 2, 4 or 8", "\(analyze)")
        #expect(FileManager.default.contents(atPath: model) == before)
    }
}
