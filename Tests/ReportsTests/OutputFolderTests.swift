import Foundation
import Testing
@testable import Reports

@Suite struct OutputFolderTests {
    static func temporary() -> String {
        let path = NSTemporaryDirectory() + "smear-output-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func filesAppearOnlyOnCommit() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/out"
        let folder = try OutputFolder(path: out)
        try folder.write(Data("a".utf8), to: "report.json")
        try folder.write(Data("b".utf8), to: "overlays/x.png")
        // Before the commit only the hidden staging folder exists.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { $0.hasPrefix(".smear-staging-") })
        try folder.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["overlays", "report.json"])
        #expect(FileManager.default.contents(atPath: out + "/overlays/x.png") == Data("b".utf8))
    }

    @Test func aStaleStagingFolderIsRemovedAndAFileIsRefused() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/out/.smear-staging-1", withIntermediateDirectories: true)
        let folder = try OutputFolder(path: root + "/out")
        folder.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/out").isEmpty)
        FileManager.default.createFile(atPath: root + "/file", contents: Data())
        #expect(throws: OutputError.self) { try OutputFolder(path: root + "/file") }
    }
}
