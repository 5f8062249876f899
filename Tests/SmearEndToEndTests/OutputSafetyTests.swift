import Foundation
import Testing

/// The output folder under stress, with the real binary: concurrent runs, signals, SIGKILL, writes
/// that fail, and inputs or output paths that cannot be used.
@Suite("smear analyze: output folder safety")
struct OutputSafetyTests {
    let fields = Fixture.path(Fixture.images("iml-malaria"))

    /// A folder of `count` links to the IML fixture fields, so that a run on one thread lasts long
    /// enough (several seconds) to be caught mid-way.
    func longBatch(in folder: URL, count: Int = 10) throws -> String {
        let batch = folder.appendingPathComponent("batch")
        try FileManager.default.createDirectory(at: batch, withIntermediateDirectories: true)
        let names = Fixture.imageNames("iml-malaria")
        for i in 0..<count {
            try FileManager.default.createSymbolicLink(atPath: batch.appendingPathComponent(String(format: "f%02d.jpg", i)).path,
                                                       withDestinationPath: "\(fields)/\(names[i % names.count])")
        }
        return batch.path
    }

    /// A fresh temporary folder with `out` (not yet created) and `io` (for a background run's output)
    /// in it; remove it with `removeTemporaryFolder(folder)`.
    func scratch() throws -> (folder: URL, out: URL, io: URL) {
        let folder = makeTemporaryFolder()
        let io = folder.appendingPathComponent("io")
        try FileManager.default.createDirectory(at: io, withIntermediateDirectories: true)
        return (folder, folder.appendingPathComponent("out"), io)
    }

    /// Starts `smear` in the background (stdout/stderr to files in `io`).
    func start(_ arguments: [String], io: URL, shell prefix: String? = nil) throws -> Process {
        let process = Process()
        if let prefix {
            // e.g. "ulimit -f 64": run through sh so that the limit applies to smear alone.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", prefix + "; exec \"$0\" \"$@\"", try #require(smearBinary)] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: try #require(smearBinary))
            process.arguments = arguments
        }
        process.currentDirectoryURL = packageRoot
        FileManager.default.createFile(atPath: io.appendingPathComponent("stderr").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: io.appendingPathComponent("stderr"))
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func stderr(_ io: URL) -> [String] {
        (try? String(contentsOf: io.appendingPathComponent("stderr"), encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
    }

    /// Waits until `out` holds a staging folder with at least one file in it (the run is mid-way).
    func waitForStagedFile(in out: URL, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for name in folderListing(out) where name.hasPrefix(".smear-staging-") && !name.hasSuffix("/") { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// One complete run into `out`; returns what it left there.
    func completeRun(into out: URL) throws -> [String: Data] {
        let run = smear(["analyze", fields, "--out", out.path, "--no-classify"])
        #expect(run.status == 0, "\(run)")
        return contents(out)
    }

    @Test("two runs into one folder at once: the second waits, both complete, the report matches its files")
    func concurrentRunsWait() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("out")
        let io1 = folder.appendingPathComponent("io1"), io2 = folder.appendingPathComponent("io2")
        for io in [io1, io2] { try FileManager.default.createDirectory(at: io, withIntermediateDirectories: true) }
        let first = try start(["analyze", try longBatch(in: folder), "--out", out.path, "--no-classify", "--threads", "1"], io: io1)
        #expect(waitForStagedFile(in: out))
        let second = try start(["analyze", Fixture.path(Fixture.images("bccd")), "--out", out.path, "--no-classify"], io: io2)
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0, "\(stderr(io1))")
        #expect(second.terminationStatus == 0, "\(stderr(io2))")
        #expect(stderr(io2).first == "smear: \(out.path): another smear run is writing into this folder; waiting for it to finish (--no-wait to fail instead)")
        // The folder shows the second run only, and every file its report names is there.
        let report = try Report.decode(try? Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.images.map { ($0.file as NSString).lastPathComponent } == Fixture.imageNames("bccd"))
        #expect(folderListing(out) == expectedListing(report))
    }

    @Test("--no-wait fails at once with one line, and the running run's results are complete")
    func noWaitFailsAtOnce() throws {
        let (folder, out, io) = try scratch()
        defer { removeTemporaryFolder(folder) }
        let first = try start(["analyze", try longBatch(in: folder), "--out", out.path, "--no-classify", "--threads", "1"], io: io)
        #expect(waitForStagedFile(in: out))
        let refused = smear(["analyze", fields, "--out", out.path, "--no-wait"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderrLines == ["Error: \(out.path): another smear run is writing into this folder (wait for it, or choose another output folder)"])
        first.waitUntilExit()
        #expect(first.terminationStatus == 0, "\(stderr(io))")
        let report = try Report.decode(try? Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(folderListing(out) == expectedListing(report))
    }

    @Test("SIGINT and SIGTERM mid-run: the run ends by the signal, the previous results stay, nothing is left behind",
          arguments: [SIGINT, SIGTERM])
    func signalsLeaveThePreviousResults(signal: Int32) throws {
        let (folder, out, io) = try scratch()
        defer { removeTemporaryFolder(folder) }
        let previous = try completeRun(into: out)
        let run = try start(["analyze", try longBatch(in: folder), "--out", out.path, "--no-classify", "--threads", "1"], io: io)
        #expect(waitForStagedFile(in: out))
        kill(run.processIdentifier, signal)
        run.waitUntilExit()
        #expect(run.terminationReason == .uncaughtSignal && run.terminationStatus == signal, "\(run.terminationReason.rawValue) \(run.terminationStatus) \(stderr(io))")
        #expect(stderr(io).last == "smear: stopped by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); no results written")
        #expect(contents(out) == previous)
        #expect(folderListing(out).allSatisfy { !$0.hasPrefix(".smear-staging-") })
    }

    @Test("SIGKILL mid-run: the previous results stay; the next run removes the dead run's staging folder")
    func killLeavesThePreviousResults() throws {
        let (folder, out, io) = try scratch()
        defer { removeTemporaryFolder(folder) }
        let previous = try completeRun(into: out)
        let run = try start(["analyze", try longBatch(in: folder), "--out", out.path, "--no-classify", "--threads", "1"], io: io)
        #expect(waitForStagedFile(in: out))
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        // Only the staging folder of the killed run was added.
        #expect(contents(out).filter { !$0.key.hasPrefix(".smear-staging-") } == previous)
        #expect(folderListing(out).contains(".smear-staging-\(run.processIdentifier)/"))
        // Its lock died with it: the next run neither waits nor keeps the staging folder.
        let next = smear(["analyze", fields, "--out", out.path, "--no-classify", "--no-wait"])
        #expect(next.status == 0, "\(next)")
        #expect(contents(out).keys.sorted() == previous.keys.sorted())
    }

    @Test("a write that fails (file-size limit, as a full disk) names the output file and the cause; the previous results stay")
    func failedWriteNamesTheOutput() throws {
        let (folder, out, io) = try scratch()
        defer { removeTemporaryFolder(folder) }
        let previous = try completeRun(into: out)
        // 64 blocks of 512 bytes: the report fits, a 1280×960 overlay does not.
        let run = try start(["analyze", fields, "--out", out.path, "--no-classify"], io: io, shell: "trap '' XFSZ; ulimit -f 64")
        run.waitUntilExit()
        #expect(run.terminationStatus == 1)
        let lines = stderr(io).filter { !$0.hasPrefix("[") }   // without the progress lines
        #expect(lines.count == 1 && lines.allSatisfy { line in
            line.hasPrefix("Error: \(out.path)/overlays/PA171") && line.hasSuffix(".png: cannot write: File too large")
        }, "\(lines)")
        #expect(contents(out) == previous)
    }

    @Test("an output folder named by one character, relative to the working folder, is written (it used to trap in Foundation)")
    func oneCharacterOutputFolder() throws {
        let name = "Q"   // in the package root, where `smear` runs
        let target = packageRoot.appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: target.path) else { return }
        defer { try? FileManager.default.removeItem(at: target) }
        let run = smear(["analyze", Fixture.images("iml-malaria") + "/" + Fixture.imageNames("iml-malaria")[0], "--out", name + "/", "--no-classify"])
        #expect(run.status == 0, "\(run)")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("report.json").path))
    }

    @Test("inputs and output folders that cannot be used: one line each, naming the path and why")
    func unusablePaths() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let fm = FileManager.default
        let loop = folder.appendingPathComponent("loop").path, other = folder.appendingPathComponent("other").path
        try fm.createSymbolicLink(atPath: loop, withDestinationPath: other)
        try fm.createSymbolicLink(atPath: other, withDestinationPath: loop)
        let dangling = folder.appendingPathComponent("field.jpg").path
        try fm.createSymbolicLink(atPath: dangling, withDestinationPath: folder.appendingPathComponent("gone.jpg").path)
        let file = folder.appendingPathComponent("file").path
        fm.createFile(atPath: file, contents: Data("x".utf8))
        let out = folder.appendingPathComponent("out").path
        let cases: [([String], String)] = [
            (["analyze", loop, "--out", out], "Error: \(loop): a loop of symbolic links"),
            (["analyze", dangling, "--out", out], "Error: \(dangling): a symbolic link to something that does not exist"),
            (["analyze", "\(file)/x.jpg", "--out", out], "Error: \(file)/x.jpg: a part of the path is a file, not a folder"),
            (["analyze", fields, "--out", "\(file)/results"], "Error: \(file): exists and is not a folder"),
            (["analyze", fields, "--out", out, "--crops", out], "Error: --crops must name another folder than --out"),
        ]
        for (arguments, message) in cases {
            let run = smear(arguments)
            #expect(run.status != 0, "\(run)")
            #expect(run.stderrLines.first == message, "\(run)")
            #expect(!folderListing(URL(fileURLWithPath: out)).contains { $0.hasPrefix(".smear-staging-") })
        }
    }
}
