import Foundation
import XCTest

/// `smear serve` killed outright (SIGKILL) in the middle of an analysis, then started again on the
/// same data folder: the fields stored before the kill and the decision made are all there, the
/// analysis shows as interrupted, and resuming it finishes the sample with every field once.
final class ServeRestartTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        guard smearBinary != nil else { throw XCTSkip("the smear executable was not built") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smear-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    func testKillMidAnalysisLosesNoFieldAndNoDecision() throws {
        let data = folder.appendingPathComponent("data")
        var server: SmearServerProcess? = try SmearServerProcess(data: data, logs: folder, timings: nil, arguments: ["--threads", "1"])
        let fields = ["PA171690.JPG", "PA171834.JPG"].map { packageRoot.appendingPathComponent("fixtures/fields/iml-malaria/images/" + $0) }
        XCTAssertEqual(try server!.api("POST", "/api/samples", ["name": "killed"]).status, 201)
        // Twelve fields, one thread: long enough to be cut short.
        for copy in 1...6 {
            for field in fields {
                let name = "\(copy)-" + field.lastPathComponent
                XCTAssertEqual(try server!.api("PUT", "/api/samples/1/files/\(name)", body: Data(contentsOf: field)).status, 201)
            }
        }
        XCTAssertEqual(try server!.api("POST", "/api/samples/1/analyses", [String: Any]()).status, 202)

        // Once a field with a parasitized call is stored, decide on that call, then kill the server.
        let cell = try waitFor("a parasitized call to review", timeout: 120, interval: 0.1) { () -> [String: Any]? in
            try server!.jsonArray("/api/samples/1/cells").compactMap { $0 as? [String: Any] }.first
        }
        let cellId = try XCTUnwrap(cell["id"] as? Int)
        XCTAssertEqual(try server!.api("POST", "/api/cells/\(cellId)/reviews", ["decision": "uninfected", "reviewer": "Ana"]).status, 201)
        let before = try server!.json("/api/samples/1")
        XCTAssertEqual((before["sample"] as? [String: Any])?["status"] as? String, "running", "the analysis must still be running to test a kill")
        let storedBefore = (before["fields"] as? [Any])?.count ?? 0
        server!.killNow()
        server = nil

        let restarted = try SmearServerProcess(data: data, logs: folder, timings: nil)
        let after = try restarted.json("/api/samples/1")
        let sample = after["sample"] as? [String: Any]
        XCTAssertEqual(sample?["status"] as? String, "interrupted")
        let storedAfter = (after["fields"] as? [Any])?.count ?? 0
        XCTAssertGreaterThanOrEqual(storedAfter, storedBefore, "no stored field is lost")
        XCTAssertLessThan(storedAfter, 12)
        let audit = try restarted.jsonArray("/api/samples/1/audit").compactMap { $0 as? [String: Any] }
        XCTAssertEqual(audit.map { $0["cell_id"] as? Int }, [cellId], "the decision survives")
        XCTAssertEqual(try restarted.api("POST", "/api/samples/1/signoff", ["reviewer": "Ana"]).status, 409, "not signed off while interrupted")

        let analysis = try XCTUnwrap(sample?["analysis_id"] as? Int)
        XCTAssertEqual(try restarted.api("POST", "/api/analyses/\(analysis)/resume", [String: Any]()).status, 202)
        let done = try waitFor("the resumed analysis to finish", timeout: 300, interval: 0.2) { () -> [String: Any]? in
            let detail = try restarted.json("/api/samples/1")
            return (detail["sample"] as? [String: Any])?["status"] as? String == "done" ? detail : nil
        }
        let names = (done["fields"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertEqual(names.count, 12)
        XCTAssertEqual(Set(names).count, 12, "no field stored twice")
        let summary = done["summary"] as? [String: Any]
        let automatic = summary?["automatic"] as? [String: Any], reviewed = summary?["reviewed"] as? [String: Any]
        XCTAssertEqual(reviewed?["parasitized"] as? Int, (automatic?["parasitized"] as? Int ?? 0) - 1, "the decision still counts")
        XCTAssertEqual(try restarted.jsonArray("/api/samples/1/audit").count, 1)
        restarted.stop()
    }

    /// What stops a server from starting is one line and exit 1: a data folder another server uses, a
    /// port in use, a damaged database.
    func testStartUpErrorsAreOneLine() throws {
        let data = folder.appendingPathComponent("data")
        let server = try SmearServerProcess(data: data, logs: folder, timings: nil)
        defer { server.stop() }
        let port = try XCTUnwrap(server.base.port)
        let damaged = folder.appendingPathComponent("damaged")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        try Data("not a database".utf8).write(to: damaged.appendingPathComponent("smear.sqlite"))
        for (arguments, expected) in [
            (["serve", "--port", "0", "--data", data.path], "another smear serve is using this data folder"),
            (["serve", "--port", "\(port)", "--data", folder.appendingPathComponent("other").path], "the port is in use"),
            (["serve", "--port", "0", "--data", damaged.path], "smear.sqlite: cannot open the database"),
        ] {
            let run = smear(arguments)
            XCTAssertEqual(run.status, 1, "\(run)")
            XCTAssertEqual(run.stderrLines.count, 1, "\(run)")
            XCTAssertTrue(run.stderr.contains(expected), "\(run)")
        }
        XCTAssertEqual(try server.jsonArray("/api/samples").count, 0, "the running server is untouched")
    }
}
