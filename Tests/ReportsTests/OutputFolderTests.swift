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
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == [".smear-files", "overlays", "report.json"])
        #expect(FileManager.default.contents(atPath: out + "/overlays/x.png") == Data("b".utf8))
    }

    @Test func aSecondRunRemovesOnlyThePreviousRunsFilesItDoesNotWriteAgain() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/out"
        let fm = FileManager.default
        let first = try OutputFolder(path: out)
        for name in ["report.json", "overlays/a.png", "overlays/b.png", "cells/b_cell_1.png"] {
            try first.write(Data("1".utf8), to: name)
        }
        try first.commit()
        fm.createFile(atPath: out + "/notes.txt", contents: Data("mine".utf8))
        fm.createFile(atPath: out + "/overlays/mine.png", contents: Data("mine".utf8))
        let second = try OutputFolder(path: out)
        try second.write(Data("2".utf8), to: "report.json")
        try second.write(Data("2".utf8), to: "overlays/a.png")
        try second.commit()
        #expect(try fm.contentsOfDirectory(atPath: out).sorted() == [".smear-files", "notes.txt", "overlays", "report.json"])
        #expect(try fm.contentsOfDirectory(atPath: out + "/overlays").sorted() == ["a.png", "mine.png"])
        #expect(fm.contents(atPath: out + "/overlays/a.png") == Data("2".utf8))
        #expect(fm.contents(atPath: out + "/.smear-files") == Data("overlays/a.png\nreport.json\n".utf8))
    }

    @Test func aListEntryOutsideTheFolderIsIgnored() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/keep.txt", contents: Data())
        FileManager.default.createFile(atPath: out + "/.smear-files", contents: Data("../keep.txt\n\(root)/keep.txt\n".utf8))
        let folder = try OutputFolder(path: out)
        try folder.write(Data(), to: "report.json")
        try folder.commit()
        #expect(FileManager.default.fileExists(atPath: root + "/keep.txt"))
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
