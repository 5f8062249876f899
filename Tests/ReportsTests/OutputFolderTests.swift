import Foundation
import Synchronization
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
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == [".smear-lock", ".smear-staging-\(getpid())"])
        try folder.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == [".smear-files", ".smear-lock", "overlays", "report.json"])
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
        #expect(try fm.contentsOfDirectory(atPath: out).sorted() == [".smear-files", ".smear-lock", "notes.txt", "overlays", "report.json"])
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
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/out") == [".smear-lock"])
        FileManager.default.createFile(atPath: root + "/file", contents: Data())
        #expect(throws: OutputError("\(root)/file: exists and is not a folder")) { try OutputFolder(path: root + "/file") }
        #expect(throws: OutputError("\(root)/file: exists and is not a folder")) {
            try OutputFolder(path: root + "/file/out/deeper")
        }
    }

    @Test func aSecondFolderOnTheSamePathFailsWithoutWaitingAndWaitsOtherwise() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try OutputFolder(path: root)
        try first.write(Data("first".utf8), to: "report.json")
        #expect(throws: OutputError("\(root): another smear run is writing into this folder (wait for it, or choose another output folder)")) {
            try OutputFolder(path: root, wait: false)
        }
        // The refused run left the live run's staging folder alone.
        #expect(FileManager.default.fileExists(atPath: root + "/.smear-staging-\(getpid())/report.json"))
        let waited = Mutex(false)
        let second = Thread {
            let folder = try! OutputFolder(path: root, onWait: { waited.withLock { $0 = true } })
            try! folder.write(Data("second".utf8), to: "report.json")
            try! folder.commit()
        }
        second.start()
        Thread.sleep(forTimeInterval: 0.3)
        #expect(waited.withLock { $0 })
        try first.commit()
        while !second.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        #expect(FileManager.default.contents(atPath: root + "/report.json") == Data("second".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == [".smear-files", ".smear-lock", "report.json"])
    }

    @Test func aFailedMovePutsThePreviousFilesBack() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        let first = try OutputFolder(path: root)
        for name in ["a.txt", "b/c.txt", "d.txt"] { try first.write(Data("old".utf8), to: name) }
        try first.commit()
        let second = try OutputFolder(path: root)
        for name in ["a.txt", "b/c.txt", "d.txt", "e.txt"] { try second.write(Data("new".utf8), to: name) }
        // b/c.txt cannot be replaced: its place is taken by a folder holding a file.
        try fm.removeItem(atPath: root + "/b/c.txt")
        try fm.createDirectory(atPath: root + "/b/c.txt", withIntermediateDirectories: true)
        fm.createFile(atPath: root + "/b/c.txt/x", contents: Data())
        #expect(throws: OutputError.self) { try second.commit() }
        #expect(fm.contents(atPath: root + "/a.txt") == Data("old".utf8))
        #expect(fm.contents(atPath: root + "/d.txt") == Data("old".utf8))
        #expect(!fm.fileExists(atPath: root + "/e.txt"))
        #expect(fm.contents(atPath: root + "/.smear-files") == Data("a.txt\nb/c.txt\nd.txt\n".utf8))
        second.discard()
        #expect(try fm.contentsOfDirectory(atPath: root).sorted() == [".smear-files", ".smear-lock", "a.txt", "b", "d.txt"])
    }

    /// (`discardAllUncommitted`, which the command line calls on a signal, is tested end to end: here it
    /// would discard the folders of tests running alongside.)
    @Test func writesAfterADiscardFailAndLeaveNothing() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try OutputFolder(path: root)
        try folder.write(Data("x".utf8), to: "overlays/a.png")
        folder.discard()
        #expect(throws: OutputError("\(root)/overlays/b.png: cannot write: the run was stopped")) {
            try folder.write(Data("x".utf8), to: "overlays/b.png")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == [".smear-lock"])
    }
}
