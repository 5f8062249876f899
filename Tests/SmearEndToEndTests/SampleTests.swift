import Foundation
import Testing

/// `smear analyze --sample` / `--samples-root`: counting one slide's fields to a target.
struct SampleJSON: Decodable {
    struct Sample: Decodable {
        var name: String
        var images: [String]
        var fieldsUsed: Int
        var fieldsAvailable: Int
        var targetCells: Int?
        var targetReached: Bool
        var cellsCounted: Int
        var parasitized: Int?
        var parasitemiaPercent: Double?
        var parasitemiaCi95Percent: [Double]?
        var parasitesPerMicrolitre: Double?
    }
    struct Image: Decodable { var file: String; var sample: String?; var cellsCounted: Int; var parasitized: Int? }
    var samples: [Sample]
    var images: [Image]

    static func decode(_ data: Data?) throws -> SampleJSON {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(SampleJSON.self, from: try #require(data))
    }
}

@Suite("smear analyze --sample")
struct SampleTests {
    static let fields = Fixture.images("iml-malaria")
    static let names = Fixture.imageNames("iml-malaria")

    @Test("the count stops after the field in which it reaches the target")
    func stopsAtTarget() throws {
        let result = OutputRun(["analyze", "--sample", "PATIENT-1", Self.fields, "--target-cells", "50"])
        #expect(result.run.status == 0, "\(result.run)")
        let report = try SampleJSON.decode(result.files["report.json"])
        let sample = try #require(report.samples.first)
        #expect(report.samples.count == 1 && sample.name == "PATIENT-1")
        #expect(sample.fieldsUsed == 1 && sample.fieldsAvailable == Self.names.count)
        #expect(sample.images == [Self.fields + "/" + Self.names[0]])
        #expect(sample.targetReached && sample.targetCells == 50)
        #expect(report.images.map(\.file) == sample.images)
        #expect(sample.cellsCounted == report.images[0].cellsCounted && sample.cellsCounted >= 50)
        // Only the used field's overlay is written.
        #expect(result.listing.filter { $0.hasPrefix("overlays/") && $0.hasSuffix(".png") } == ["overlays/\(stem(Self.names[0])).png"])
        // Parasitemia, its interval and parasites/µL are consistent.
        let k = try #require(sample.parasitized), p = try #require(sample.parasitemiaPercent)
        #expect(abs(p - 100 * Double(k) / Double(sample.cellsCounted)) < 1e-3)
        let ci = try #require(sample.parasitemiaCi95Percent)
        #expect(ci.count == 2 && ci[0] <= p && p <= ci[1])
        #expect(sample.parasitesPerMicrolitre == (Double(k) / Double(sample.cellsCounted) * 5e6).rounded())
        #expect(result.run.stderrLines.contains { $0.hasPrefix("PATIENT-1: \(sample.cellsCounted) red cells in 1 of \(Self.names.count) fields") })
    }

    @Test("when the fields run out first, the report says the target was not reached")
    func targetNotReached() throws {
        let result = OutputRun(["analyze", "--sample", "S", Self.fields, "--red-cells-per-microlitre", "4.5e6"])
        #expect(result.run.status == 0, "\(result.run)")
        let sample = try #require(try SampleJSON.decode(result.files["report.json"]).samples.first)
        #expect(!sample.targetReached && sample.targetCells == 5000)
        #expect(sample.fieldsUsed == Self.names.count)
        #expect(sample.parasitesPerMicrolitre == (Double(sample.parasitized ?? 0) / Double(sample.cellsCounted) * 4.5e6).rounded())
        #expect(result.run.stderrLines.contains { $0.contains("target of 5000 cells NOT reached") })
        #expect(result.text("report.html").contains("(target 5000 not reached)"))
    }

    @Test("--samples-root: one sample per sub-folder, named after it; report.html links only to files that exist")
    func samplesRoot() throws {
        let root = makeTemporaryFolder()
        defer { removeTemporaryFolder(root) }
        for (sample, set) in [("A", "iml-malaria"), ("B", "chula-rbc12")] {
            let folder = root.appendingPathComponent(sample)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in Fixture.imageNames(set) {
                try FileManager.default.copyItem(atPath: Fixture.path(Fixture.images(set) + "/" + name),
                                                 toPath: folder.appendingPathComponent(name).path)
            }
        }
        let out = root.appendingPathComponent("out")
        let run = smear(["analyze", "--samples-root", root.appendingPathComponent(".").path, "--target-cells", "100000", "--out", out.path])
        #expect(run.status == 0, "\(run)")
        let report = try SampleJSON.decode(try Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.samples.map(\.name) == ["A", "B"])
        #expect(report.images.map(\.sample) == Fixture.imageNames("iml-malaria").map { _ in "A" } + Fixture.imageNames("chula-rbc12").map { _ in "B" })
        let html = String(decoding: try Data(contentsOf: out.appendingPathComponent("report.html")), as: UTF8.self)
        var links = 0
        for match in html.matches(of: /(?:src|href)="([^"#]+)"/) {
            links += 1
            let path = out.appendingPathComponent(String(match.1)).path
            #expect(FileManager.default.fileExists(atPath: path), "report.html links to missing \(match.1)")
        }
        #expect(links >= 2 * report.images.count)
    }

    @Test("option errors: --sample with --samples-root, a bad threshold, --no-classify with --model")
    func optionErrors() throws {
        for arguments in [["analyze", "--sample", "x", "--samples-root", ".", "--out", "o"],
                          ["analyze", Self.fields, "--threshold", "1.5", "--out", "o"],
                          ["analyze", Self.fields, "--no-classify", "--model", "m.smnet", "--out", "o"],
                          ["analyze", Self.fields, "--target-cells", "0", "--out", "o"]] {
            let run = smear(arguments)
            #expect(run.status == 64, "\(run)")
            #expect(run.stderrLines.first?.hasPrefix("Error: ") == true, "\(run)")
        }
    }

    @Test("a model file that is not a model: one clear error, nothing written")
    func badModel() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let model = folder.appendingPathComponent("bad.smnet").path
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: model))
        let out = folder.appendingPathComponent("out").path
        let run = smear(["analyze", Self.fields, "--model", model, "--out", out])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderrLines[0].contains("bad.smnet"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: out + "/report.json"))
    }
}
