import Foundation
import ImageCodecs
import Testing
@testable import Pipeline
@testable import Reports

/// The sinks that present a run: the output folder (`ReportFolder`) and the in-memory collector (for
/// the web app), fed by one run, report the same thing.
@Suite struct AnalysisSinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ relative: String) -> String { root.appendingPathComponent("fixtures/" + relative).path }

    @Test func theFolderAndTheCollectorOfOneRunAgree() throws {
        let out = NSTemporaryDirectory() + "smear-sinks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let paths = [Self.fixture("fields/bccd/images/BloodImage_00006.jpg"), Self.fixture("not-smears/text.png"),
                     Self.fixture("corrupt/empty.tif")]
        let settings = AnalysisReport.Settings(model: nil, threshold: nil, cellDiameter: nil, targetCells: nil, redCellsPerMicrolitre: 5e6)
        let folder = try ReportFolder(folder: try OutputFolder(path: out), paths: paths, settings: settings, version: "test", classified: false)
        let collector = AnalysisCollector(settings: settings, version: "test", classified: false)
        let result = try AnalysisRun(samples: [.init(name: "", paths: paths, target: nil)], analyzer: FieldAnalyzer(), threads: 2)
            .run([collector, folder])

        let written = try #require(FileManager.default.contents(atPath: out + "/report.json"))
        #expect(try #require(folder.report).json() == written)
        #expect(try #require(collector.result).report.json().count > 0)
        #expect(collector.done == (3, 3))
        #expect(collector.failures.map(\.path) == [paths[1], paths[2]])
        // The collector's report differs from the folder's only in naming no overlay files.
        let fromFolder = try #require(folder.report), fromMemory = try #require(collector.result).report
        #expect(fromMemory.images.map(\.cellsCounted) == fromFolder.images.map(\.cellsCounted))
        #expect(fromMemory.totals.cellsCounted == result.totals.counted && fromFolder.totals.cellsCounted == result.totals.counted)
        #expect(fromFolder.images.map(\.overlay) == ["overlays/BloodImage_00006.png"])
        #expect(fromFolder.failures.map(\.overlay) == ["overlays/text.png", nil])
        // Overlays: in memory as PNG bytes, on disk as files, the same pictures.
        for path in paths.prefix(2) {
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let bytes = try #require(collector.overlay(of: path))
            #expect(try ImageCodecs.decode(bytes, name: name) == ImageCodecs.read(path: "\(out)/overlays/\(name).png"))
        }
        #expect(collector.overlay(of: paths[2]) == nil)
    }
}
