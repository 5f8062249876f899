import Foundation
import ImageCodecs
import Testing
@testable import Pipeline
@testable import Reports

/// The output folder (`ReportFolder`) as the sink of a run: its report is the run's, field by field,
/// and names the overlays it drew.
@Suite struct AnalysisSinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ relative: String) -> String { root.appendingPathComponent("fixtures/" + relative).path }

    @Test func theFolderReportsTheRun() throws {
        let out = NSTemporaryDirectory() + "smear-sinks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let paths = [Self.fixture("fields/bccd/images/BloodImage_00006.jpg"), Self.fixture("not-smears/text.png"),
                     Self.fixture("corrupt/empty.tif")]
        let settings = AnalysisReport.Settings(model: nil, threshold: nil, cellDiameter: nil, targetCells: nil, redCellsPerMicrolitre: 5e6)
        let folder = try ReportFolder(folder: try OutputFolder(path: out), paths: paths, settings: settings, version: "test", classified: false)
        let result = try AnalysisRun(samples: [.init(name: "", paths: paths, target: nil)], analyzer: FieldAnalyzer(), threads: 2)
            .run([folder])

        let written = try #require(FileManager.default.contents(atPath: out + "/report.json"))
        #expect(try #require(folder.report).json() == written)
        let fromFolder = try #require(folder.report)
        #expect(fromFolder.images.map(\.cellsCounted) == result.fields.map(\.cellsCounted))
        #expect(fromFolder.totals.cellsCounted == result.totals.counted)
        #expect(fromFolder.failures.map(\.file) == [paths[1], paths[2]])
        #expect(fromFolder.images.map(\.overlay) == ["overlays/BloodImage_00006.png"])
        #expect(fromFolder.failures.map(\.overlay) == ["overlays/text.png", nil])
        // The overlays drawn are the fields' (a field that failed quality control too), at their size.
        #expect(try ImageCodecs.read(path: out + "/overlays/BloodImage_00006.png").width == result.fields[0].width)
        #expect(FileManager.default.fileExists(atPath: out + "/overlays/text.png"))
    }
}
