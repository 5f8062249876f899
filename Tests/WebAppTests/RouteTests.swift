import Classifier
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Pipeline
@testable import WebApp
import XCTest

/// Every route of `smear serve` over HTTP (Hummingbird's in-process test client), with the bad input
/// a server on a laboratory laptop meets: oversized uploads, non-images, path traversal and links out
/// of the data folder, missing or wrong CSRF tokens, requests from another site, a review of a
/// signed-off sample, unknown ids; and one real analysis of two fixture fields, reviewed, signed off
/// and exported.
final class RouteTests: XCTestCase, @unchecked Sendable {
    var root = ""
    var server: WebServer!

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path
    static let fields = ["PA171690.JPG", "PA171834.JPG"].map { fixtures + "/fields/iml-malaria/images/" + $0 }
    nonisolated(unsafe) static var classifier: CellClassifier?

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "smear-serve-\(UUID().uuidString)"
        server = try makeServer(accessToken: nil)
    }

    override func tearDown() {
        server?.queue.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    func makeServer(accessToken: String?) throws -> WebServer {
        if Self.classifier == nil { Self.classifier = try CellClassifier.bundled() }
        let data = try DataFolder(root: root)
        let store = try Store(path: root + "/smear.sqlite")
        let queue = AnalysisQueue(store: store, dataRoot: root, classifier: Self.classifier!, modelName: "bundled", threshold: Self.classifier!.threshold(nil),
                                  workers: 1, threads: 2)
        return WebServer(store: store, queue: queue, data: data, accessToken: accessToken)
    }

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var error: String? { (object["error"] as? [String: Any])?["message"] as? String }
    }

    /// Runs `body` against the server's router.
    func withClient(_ server: WebServer? = nil, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: (server ?? self.server).router())
        try await app.test(.router) { client in try await body(client) }
    }

    func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, bytes: [UInt8]? = nil,
              csrf: String? = "default", headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf == "default" ? server.csrf : csrf }
        let body = json.map { ByteBuffer(string: $0) } ?? bytes.map { ByteBuffer(bytes: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    // MARK: - Pages and static files

    func testPagesCarryTheCSRFTokenAndAStrictPolicy() async throws {
        let csrf = server.csrf
        try await withClient { client in
            for page in ["/", "/check"] {
                let reply = try await self.send(client, .get, page, csrf: nil)
                XCTAssertEqual(reply.status, .ok, page)
                XCTAssertTrue(reply.text.contains(csrf), page)
                XCTAssertFalse(reply.text.contains("{{csrf}}"))
                XCTAssertEqual(reply.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'self'"), true)
                XCTAssertEqual(reply.headers[HTTPField.Name("X-Content-Type-Options")!], "nosniff")
            }
            let unknown = try await self.send(client, .get, "/samples/77", csrf: nil)
            XCTAssertEqual(unknown.status, .notFound)
            let css = try await self.send(client, .get, "/assets/app.css", csrf: nil)
            XCTAssertEqual(css.status, .ok)
            XCTAssertEqual(css.headers[.contentType], "text/css; charset=utf-8")
            for bad in ["/assets/..%2FStore.swift", "/assets/.hidden", "/assets/nope.js"] {
                let reply = try await self.send(client, .get, bad, csrf: nil)
                XCTAssertEqual(reply.status, .notFound, bad)
            }
        }
    }

    func testFilesAreConfinedToTheSamplesFolder() async throws {
        try FileManager.default.createDirectory(atPath: root + "/samples/1/analysis-1/overlays", withIntermediateDirectories: true)
        try Data("png".utf8).write(to: URL(fileURLWithPath: root + "/samples/1/analysis-1/overlays/a.png"))
        try FileManager.default.createDirectory(atPath: root + "/samples/1/inputs", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/samples/1/inputs/a.jpg"))
        try Data("png".utf8).write(to: URL(fileURLWithPath: root + "/samples/1/analysis-1/overlays/tile 1_cell_2.png"))
        try FileManager.default.createSymbolicLink(atPath: root + "/samples/1/escape", withDestinationPath: "/etc")
        try await withClient { client in
            let ok = try await self.send(client, .get, "/files/samples/1/analysis-1/overlays/a.png", csrf: nil)
            XCTAssertEqual(ok.status, .ok)
            XCTAssertEqual(ok.headers[.contentType], "image/png")
            let spaced = try await self.send(client, .get, "/files/samples/1/analysis-1/overlays/tile%201_cell_2.png", csrf: nil)
            XCTAssertEqual(spaced.status, .ok, "names are percent-decoded")
            for bad in ["/files/smear.sqlite", "/files/samples/../smear.sqlite", "/files/samples/%2e%2e/smear.sqlite",
                        "/files/samples%2F..%2Fsmear.sqlite", "/files/samples/1/escape/passwd", "/files/samples/1/inputs/a.jpg",
                        "/files/samples/1/./analysis-1/overlays/a.png", "/files/samples/1/analysis-1/overlays/none.png"] {
                let reply = try await self.send(client, .get, bad, csrf: nil)
                XCTAssertEqual(reply.status, .notFound, bad)
            }
        }
    }

    // MARK: - CSRF, origin and access token

    func testStateChangesNeedTheCSRFTokenAndTheSameOrigin() async throws {
        try await withClient { client in
            let missing = try await self.send(client, .post, "/api/samples", json: #"{"name":"a"}"#, csrf: nil)
            XCTAssertEqual(missing.status, .forbidden)
            XCTAssertNotNil(missing.error)
            let wrong = try await self.send(client, .post, "/api/samples", json: #"{"name":"a"}"#, csrf: String(repeating: "0", count: 64))
            XCTAssertEqual(wrong.status, .forbidden)
            var crossSite = HTTPFields()
            crossSite[HTTPField.Name("Origin")!] = "http://evil.example"
            let foreign = try await self.send(client, .post, "/api/samples", json: #"{"name":"a"}"#, headers: crossSite)
            XCTAssertEqual(foreign.status, .forbidden)
            let upload = try await self.send(client, .put, "/api/samples/1/files/a.png", bytes: [0x89], csrf: nil)
            XCTAssertEqual(upload.status, .forbidden)
            let list = try await self.send(client, .get, "/api/samples", csrf: nil)
            XCTAssertEqual(list.status, .ok)
            XCTAssertEqual(list.text, "[]")
            XCTAssertEqual(try self.server.store.samples().count, 0, "nothing was created")
        }
    }

    func testAccessTokenGuardsEveryRequestWhenListeningWider() async throws {
        server.queue.stop()
        let guarded = try makeServer(accessToken: "secret-token")
        server = guarded
        try await withClient(guarded) { client in
            let refused = try await self.send(client, .get, "/", csrf: nil)
            XCTAssertEqual(refused.status, .unauthorized)
            let api = try await self.send(client, .get, "/api/samples", csrf: nil)
            XCTAssertEqual(api.status, .unauthorized)
            var bearer = HTTPFields()
            bearer[.authorization] = "Bearer secret-token"
            let ok = try await self.send(client, .get, "/api/samples", csrf: nil, headers: bearer)
            XCTAssertEqual(ok.status, .ok)
            var wrong = HTTPFields()
            wrong[.authorization] = "Bearer secret-tokem"
            let bad = try await self.send(client, .get, "/api/samples", csrf: nil, headers: wrong)
            XCTAssertEqual(bad.status, .unauthorized)
            let link = try await self.send(client, .get, "/?token=secret-token", csrf: nil)
            XCTAssertEqual(link.status.code / 100, 3, "the printed link sets a cookie and redirects")
            XCTAssertEqual(link.headers[.setCookie]?.contains("smear_token=secret-token"), true)
            XCTAssertEqual(link.headers[.setCookie]?.contains("HttpOnly"), true)
            var cookie = HTTPFields()
            cookie[.cookie] = "smear_token=secret-token"
            let page = try await self.send(client, .get, "/", csrf: nil, headers: cookie)
            XCTAssertEqual(page.status, .ok)
        }
    }

    // MARK: - Samples, uploads, folders

    func testCreateSampleValidatesItsBody() async throws {
        try await withClient { client in
            for (body, status) in [("not json", HTTPResponse.Status.badRequest), (#"{"name":"   "}"#, .badRequest),
                                   (#"{"name":"a","target_cells":0}"#, .badRequest), (#"{"name":"a\u0007"}"#, .badRequest),
                                   (#"{"name":"ok","target_cells":5000}"#, .created)] {
                let reply = try await self.send(client, .post, "/api/samples", json: body)
                XCTAssertEqual(reply.status, status, body)
            }
            let big = try await self.send(client, .post, "/api/samples", json: #"{"name":""# + String(repeating: "x", count: 70_000) + #""}"#)
            XCTAssertEqual(big.status, .contentTooLarge)
            let detail = try await self.send(client, .get, "/api/samples/1", csrf: nil)
            XCTAssertEqual((detail.object["sample"] as? [String: Any])?["target_cells"] as? Int, 5000)
            for unknown in ["/api/samples/2", "/api/samples/x", "/api/samples/2/audit", "/api/samples/2/cells"] {
                let reply = try await self.send(client, .get, unknown, csrf: nil)
                XCTAssertTrue([.notFound, .badRequest].contains(reply.status), unknown)
            }
        }
    }

    func testTheDateFilterTakesDaysAndInstantsInAnyZone() async throws {
        try await withClient { client in
            let created = try await self.send(client, .post, "/api/samples", json: #"{"name":"today"}"#)
            XCTAssertEqual(created.status, .created, created.text)
            func names(_ query: String) async throws -> [String] {
                let reply = try await self.send(client, .get, "/api/samples?" + query, csrf: nil)
                XCTAssertEqual(reply.status, .ok, "\(query): \(reply.text)")
                return (reply.json as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            }
            let now = Date(), utcDay = DateFormatter()
            utcDay.dateFormat = "yyyy-MM-dd"
            utcDay.timeZone = TimeZone(identifier: "UTC")
            utcDay.locale = Locale(identifier: "en_US_POSIX")
            // The same instants written in another zone (as a page in Bangkok sends them) and with fractions.
            let bangkok = ISO8601DateFormatter()
            bangkok.timeZone = TimeZone(secondsFromGMT: 7 * 3600)
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let hourAgo = now.addingTimeInterval(-3600), hourOn = now.addingTimeInterval(3600)
            for (query, expected) in [
                ("from=\(bangkok.string(from: hourAgo))", ["today"]), ("to=\(bangkok.string(from: hourAgo))", []),
                ("from=\(fractional.string(from: hourAgo))&to=\(fractional.string(from: hourOn))", ["today"]),
                ("from=\(bangkok.string(from: hourOn))", []),
                ("from=\(utcDay.string(from: now))&to=\(utcDay.string(from: now))", ["today"]),  // a UTC day, both ends inclusive
                ("to=\(utcDay.string(from: now.addingTimeInterval(-86_400)))", []),
            ] {
                let query = query.replacingOccurrences(of: "+", with: "%2B")
                let found = try await names(query)
                XCTAssertEqual(found, expected, query)
            }
            for bad in ["from=yesterday", "to=2026-13-45", "from=2026-12-01T10:00:00", "to=%27%20OR%201=1"] {
                let reply = try await self.send(client, .get, "/api/samples?" + bad, csrf: nil)
                XCTAssertEqual(reply.status, .badRequest, bad)
                XCTAssertTrue(reply.error?.contains("give a day (YYYY-MM-DD) or a time with its zone") == true, "\(bad): \(reply.text)")
            }
        }
    }

    func testUploadsAreCheckedByContentSizeAndName() async throws {
        server.limits.fileBytes = 300_000
        server.limits.filesPerSample = 2
        let field = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fields[0])))
        try await withClient { client in
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"a"}"#)
            let text = try await self.send(client, .put, "/api/samples/1/files/notes.png", bytes: Array("hello, not an image".utf8))
            XCTAssertEqual(text.status, .unsupportedMediaType)
            XCTAssertTrue(text.error?.contains("not a PNG, JPEG or TIFF") == true)
            let huge = try await self.send(client, .put, "/api/samples/1/files/big.jpg", bytes: field + [UInt8](repeating: 0, count: 200_000))
            XCTAssertEqual(huge.status, .contentTooLarge)
            for name in ["..", ".hidden.jpg", "%2e%2e%2fescape.jpg", "a%2Fb.jpg", "a%0Ab.jpg"] {
                let reply = try await self.send(client, .put, "/api/samples/1/files/\(name)", bytes: field)
                XCTAssertTrue([.badRequest, .notFound].contains(reply.status), "\(name): \(reply.status)")
            }
            let ok = try await self.send(client, .put, "/api/samples/1/files/field%20one.jpg", bytes: field)
            XCTAssertEqual(ok.status, .created)
            XCTAssertEqual(ok.object["name"] as? String, "field one.jpg")
            XCTAssertEqual(ok.object["kind"] as? String, "field")
            XCTAssertEqual(ok.object["bytes"] as? Int, field.count)
            let twice = try await self.send(client, .put, "/api/samples/1/files/field%20one.jpg", bytes: field)
            XCTAssertEqual(twice.status, .conflict)
            _ = try await self.send(client, .put, "/api/samples/1/files/two.jpg", bytes: field)
            let third = try await self.send(client, .put, "/api/samples/1/files/three.jpg", bytes: field)
            XCTAssertEqual(third.status, .contentTooLarge)
            let unknown = try await self.send(client, .put, "/api/samples/9/files/a.jpg", bytes: field)
            XCTAssertEqual(unknown.status, .notFound)
        }
        // Only the two accepted files are kept: refused uploads leave nothing behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/samples/1/inputs").sorted(), ["field one.jpg", "two.jpg"])
        XCTAssertEqual(try server.store.inputs(sample: 1).map(\.name), ["field one.jpg", "two.jpg"])
    }

    func testFoldersArePickedOnlyInsideTheDataFolder() async throws {
        let inside = root + "/lab/ward 3"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        for f in Self.fields { try FileManager.default.copyItem(atPath: f, toPath: inside + "/" + (f as NSString).lastPathComponent) }
        try Data("no image".utf8).write(to: URL(fileURLWithPath: inside + "/fake.png"))
        let outside = NSTemporaryDirectory() + "smear-outside-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.copyItem(atPath: Self.fields[0], toPath: outside + "/x.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/lab/link-out", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: inside + "/leak.jpg", withDestinationPath: outside + "/x.jpg")
        try await withClient { client in
            let listing = try await self.send(client, .get, "/api/folders?path=lab", csrf: nil)
            XCTAssertEqual(listing.object["folders"] as? [String], ["ward 3"], "a link out of the data folder is not listed")
            for bad in ["..", "/etc", "lab/../..", "lab/link-out"] {
                let reply = try await self.send(client, .get, "/api/folders?path=\(bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", csrf: nil)
                XCTAssertEqual(reply.status, .notFound, bad)
                let create = try await self.send(client, .post, "/api/samples", json: #"{"name":"x","folder":"\#(bad)"}"#)
                XCTAssertEqual(create.status, .badRequest, bad)
            }
            let created = try await self.send(client, .post, "/api/samples", json: #"{"name":"ward","folder":"lab/ward 3"}"#)
            XCTAssertEqual(created.status, .created)
            XCTAssertEqual(try self.server.store.inputs(sample: 1).map(\.name), ["PA171690.JPG", "PA171834.JPG"],
                           "the fake image and the link out are left out")
            let upload = try await self.send(client, .put, "/api/samples/1/files/more.jpg", bytes: [0xFF, 0xD8, 0xFF])
            XCTAssertEqual(upload.status, .conflict, "a folder sample takes no uploads")
            let empty = try await self.send(client, .post, "/api/samples", json: #"{"name":"x","folder":"lab"}"#)
            XCTAssertEqual(empty.status, .badRequest, "a folder with no images")
            let own = try await self.send(client, .post, "/api/samples", json: #"{"name":"x","folder":"samples"}"#)
            XCTAssertEqual(own.status, .badRequest, "the app's own folder")
        }
    }

    // MARK: - The whole flow

    /// Uploads two fixture fields, analyses them with the real library run, reviews, signs off and
    /// exports; then checks what a signed-off sample refuses.
    func testAnalyseReviewSignOffExport() async throws {
        try server.queue.start()
        let fields = try Self.fields.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        try await withClient { client in
            let early = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            XCTAssertEqual(early.status, .notFound)
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"Patient A","target_cells":5000}"#)
            let none = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            XCTAssertEqual(none.status, .conflict, "no images yet")
            for (name, bytes) in zip(["PA171690.JPG", "PA171834.JPG"], fields) {
                let reply = try await self.send(client, .put, "/api/samples/1/files/\(name)", bytes: bytes)
                XCTAssertEqual(reply.status, .created)
            }
            let draftExport = try await self.send(client, .get, "/api/samples/1/export/cells.csv", csrf: nil)
            XCTAssertEqual(draftExport.status, .conflict)
            let badThreshold = try await self.send(client, .post, "/api/samples/1/analyses", json: #"{"threshold":2}"#)
            XCTAssertEqual(badThreshold.status, .badRequest)
            let started = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            XCTAssertEqual(started.status, .accepted)
            let again = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            XCTAssertEqual(again.status, .conflict, "already queued or running")

            var detail = Reply(status: .ok, headers: [:], text: "{}")
            for _ in 0..<600 {
                detail = try await self.send(client, .get, "/api/samples/1", csrf: nil)
                if ["done", "failed"].contains((detail.object["sample"] as? [String: Any])?["status"] as? String) { break }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let sample = detail.object["sample"] as? [String: Any]
            XCTAssertEqual(sample?["status"] as? String, "done", detail.text)
            let storedFields = detail.object["fields"] as? [[String: Any]] ?? []
            XCTAssertEqual(storedFields.count, 2)
            let summary = detail.object["summary"] as? [String: Any]
            let automatic = summary?["automatic"] as? [String: Any]
            let counted = automatic?["cells_counted"] as? Int ?? 0, parasitized = automatic?["parasitized"] as? Int ?? 0
            XCTAssertEqual(counted, storedFields.reduce(0) { $0 + ($1["cells_counted"] as? Int ?? 0) })
            XCTAssertGreaterThan(parasitized, 0)
            // The machine's count at the bundled model's operating point comes adjusted too; the reviewed one never.
            let rates = try XCTUnwrap(Self.classifier.flatMap { $0.operatingPoint(at: $0.threshold(nil)) })
            let adjusted = try XCTUnwrap(Tally(counted: counted, parasitized: parasitized).adjusted(by: rates))
            XCTAssertEqual(automatic?["adjusted_parasitemia_percent"] as? Double ?? -1, 100 * adjusted.value, accuracy: 1e-4)
            XCTAssertNil((summary?["reviewed"] as? [String: Any])?["adjusted_parasitemia_percent"])
            XCTAssertNotNil(detail.object["output"] as? String, "the smear analyze output is there")
            let overlay = storedFields[0]["overlay"] as? String ?? ""
            let picture = try await self.send(client, .get, "/files/" + overlay, csrf: nil)
            XCTAssertEqual(picture.status, .ok)

            let cellsReply = try await self.send(client, .get, "/api/samples/1/cells", csrf: nil)
            let cells = cellsReply.json as? [[String: Any]] ?? []
            XCTAssertEqual(cells.filter { $0["class"] as? String == "parasitized" }.count, parasitized, "every parasitized call is offered")
            XCTAssertTrue(cells.allSatisfy { $0["picture"] is String && $0["status"] as? String == "counted" })
            let first = cells[0]["id"] as? Int ?? 0
            let cellPicture = try await self.send(client, .get, "/files/" + (cells[0]["picture"] as? String ?? ""), csrf: nil)
            XCTAssertEqual(cellPicture.status, .ok)

            for (body, status) in [(#"{"decision":"maybe","reviewer":"Ana"}"#, HTTPResponse.Status.badRequest),
                                   (#"{"decision":"uninfected","reviewer":""}"#, .badRequest), (#"{"decision":"uninfected"}"#, .badRequest)] {
                let reply = try await self.send(client, .post, "/api/cells/\(first)/reviews", json: body)
                XCTAssertEqual(reply.status, status, body)
            }
            let unknownCell = try await self.send(client, .post, "/api/cells/999999/reviews", json: #"{"decision":"uninfected","reviewer":"Ana"}"#)
            XCTAssertEqual(unknownCell.status, .notFound)
            let rejected = try await self.send(client, .post, "/api/cells/\(first)/reviews", json: #"{"decision":"uninfected","reviewer":"Ana"}"#)
            XCTAssertEqual(rejected.status, .created)
            let reviewed = (rejected.object["summary"] as? [String: Any])?["reviewed"] as? [String: Any]
            XCTAssertEqual(reviewed?["parasitized"] as? Int, parasitized - 1)
            XCTAssertEqual(reviewed?["cells_counted"] as? Int, counted)
            let audit = try await self.send(client, .get, "/api/samples/1/audit", csrf: nil)
            XCTAssertEqual((audit.json as? [[String: Any]])?.first?["machine"] as? String, "parasitized")

            let noName = try await self.send(client, .post, "/api/samples/1/signoff", json: #"{"reviewer":" "}"#)
            XCTAssertEqual(noName.status, .badRequest)
            let signed = try await self.send(client, .post, "/api/samples/1/signoff", json: #"{"reviewer":"Ana Lopes"}"#)
            XCTAssertEqual(signed.status, .created)
            let twice = try await self.send(client, .post, "/api/samples/1/signoff", json: #"{"reviewer":"Ana Lopes"}"#)
            XCTAssertEqual(twice.status, .conflict)
            let locked = try await self.send(client, .post, "/api/cells/\(first)/reviews", json: #"{"decision":"parasitized","reviewer":"Ana"}"#)
            XCTAssertEqual(locked.status, .conflict)
            let reanalyse = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            XCTAssertEqual(reanalyse.status, .conflict)

            let csv = try await self.send(client, .get, "/api/samples/1/export/cells.csv", csrf: nil)
            XCTAssertEqual(csv.status, .ok)
            let lines = csv.text.split(separator: "\n")
            XCTAssertTrue(lines[0].hasSuffix(",review,reviewer,reviewed_at"))
            XCTAssertEqual(lines.filter { $0.contains(",uninfected,Ana,") }.count, 1)
            let report = try await self.send(client, .get, "/api/samples/1/export/report.json", csrf: nil)
            let review = report.object["review"] as? [String: Any]
            XCTAssertEqual(review?["signed_off_by"] as? String, "Ana Lopes")
            XCTAssertEqual((review?["reviewed"] as? [String: Any])?["parasitized"] as? Int, parasitized - 1)
            XCTAssertNotNil(report.object["images"], "the analysis report's own sections are kept")
            let geojson = try await self.send(client, .get, "/api/samples/1/export/cells.geojson", csrf: nil)
            let features = geojson.object["features"] as? [[String: Any]] ?? []
            let changed = features.filter { ($0["properties"] as? [String: Any])?["review"] as? String == "uninfected" }
            XCTAssertEqual(changed.count, 1)
            XCTAssertEqual(((changed.first?["properties"] as? [String: Any])?["classification"] as? [String: Any])?["name"] as? String, "Uninfected")
            let html = try await self.send(client, .get, "/api/samples/1/export/report.html", csrf: nil)
            XCTAssertTrue(html.text.contains("Signed off:</b> Ana Lopes"))
            let unknownExport = try await self.send(client, .get, "/api/samples/1/export/passwd", csrf: nil)
            XCTAssertEqual(unknownExport.status, .notFound)
        }
        for name in ReviewExport.files { XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/samples/1/export/" + name), name) }
    }

    /// Waits (at most a minute) until the sample's analysis is done or failed; returns its detail.
    func finished(_ client: any TestClientProtocol, sample: Int) async throws -> Reply {
        var detail = Reply(status: .ok, headers: [:], text: "{}")
        for _ in 0..<600 {
            detail = try await send(client, .get, "/api/samples/\(sample)", csrf: nil)
            if ["done", "failed"].contains((detail.object["sample"] as? [String: Any])?["status"] as? String) { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return detail
    }

    /// An analysis whose only field cannot be decoded fails with the reason, and the next analysis in
    /// the queue still runs.
    func testAFailedAnalysisSaysWhyAndOthersRun() async throws {
        try server.queue.start()
        let truncated = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/corrupt/truncated.jpg")))
        let field = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fields[0])))
        try await withClient { client in
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"broken"}"#)
            let upload = try await self.send(client, .put, "/api/samples/1/files/truncated.jpg", bytes: truncated)
            XCTAssertEqual(upload.status, .created, "a JPEG by its first bytes")
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"fine"}"#)
            _ = try await self.send(client, .put, "/api/samples/2/files/a.jpg", bytes: field)
            _ = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            _ = try await self.send(client, .post, "/api/samples/2/analyses", json: "{}")
            let broken = try await self.finished(client, sample: 1)
            let sample = broken.object["sample"] as? [String: Any]
            XCTAssertEqual(sample?["status"] as? String, "failed")
            XCTAssertTrue((sample?["error"] as? String)?.contains("truncated.jpg") == true, broken.text)
            XCTAssertEqual((broken.object["failures"] as? [[String: Any]])?.count, 1)
            let fine = try await self.finished(client, sample: 2)
            XCTAssertEqual((fine.object["sample"] as? [String: Any])?["status"] as? String, "done")
            let resumed = try await self.send(client, .post, "/api/analyses/1/resume", json: "{}")
            XCTAssertEqual(resumed.status, .accepted, "a failed analysis may be tried again")
        }
    }

    /// A slide file uploaded is analysed in tiles: its cells are stored in slide pixels, tile by
    /// tile, and the detail names its key in the output's viewer.
    func testASlideIsAnalysedInTiles() async throws {
        try server.queue.start()
        let slide = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/slides/iml-mosaic.tiff")))
        try await withClient { client in
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"scan"}"#)
            let upload = try await self.send(client, .put, "/api/samples/1/files/iml-mosaic.tiff", bytes: slide)
            XCTAssertEqual(upload.object["kind"] as? String, "slide")
            _ = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            let detail = try await self.finished(client, sample: 1)
            XCTAssertEqual((detail.object["sample"] as? [String: Any])?["status"] as? String, "done", detail.text)
            let tiles = detail.object["fields"] as? [[String: Any]] ?? []
            XCTAssertFalse(tiles.isEmpty)
            XCTAssertTrue(tiles.allSatisfy { ($0["name"] as? String)?.hasPrefix("tile ") == true && $0["overlay"] == nil }, "\(tiles)")
            XCTAssertEqual((detail.object["slide_keys"] as? [String: String])?["iml-mosaic.tiff"], "iml-mosaic")
            let summary = (detail.object["summary"] as? [String: Any])?["automatic"] as? [String: Any]
            XCTAssertGreaterThan(summary?["cells_counted"] as? Int ?? 0, 100)
            let cells = try await self.send(client, .get, "/api/samples/1/cells?all=1&limit=100000", csrf: nil)
            let xs = (cells.json as? [[String: Any]] ?? []).compactMap { $0["centroid_x"] as? Double }
            XCTAssertGreaterThan(xs.max() ?? 0, 1280, "slide pixels, beyond the first field")
        }
    }

    func testResumeRefusesWhatIsNotInterrupted() async throws {
        try await withClient { client in
            let unknown = try await self.send(client, .post, "/api/analyses/42/resume", json: "{}")
            XCTAssertEqual(unknown.status, .notFound)
            _ = try await self.send(client, .post, "/api/samples", json: #"{"name":"a"}"#)
            let field = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fields[0])))
            _ = try await self.send(client, .put, "/api/samples/1/files/a.jpg", bytes: field)
            _ = try await self.send(client, .post, "/api/samples/1/analyses", json: "{}")
            let queued = try await self.send(client, .post, "/api/analyses/1/resume", json: "{}")
            XCTAssertEqual(queued.status, .conflict)
        }
    }

    func testClassifyOneCell() async throws {
        let cells = Self.fixtures + "/cells/Parasitized"
        let name = try FileManager.default.contentsOfDirectory(atPath: cells).filter { $0.hasSuffix(".png") }.sorted()[0]
        let crop = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cells + "/" + name)))
        try await withClient { client in
            let reply = try await self.send(client, .post, "/api/classify", bytes: crop)
            XCTAssertEqual(reply.status, .ok)
            XCTAssertEqual((reply.object["predicted"] as? String)?.lowercased(), "parasitized")
            XCTAssertTrue((reply.object["heatmap"] as? String)?.hasPrefix("data:image/png;base64,") == true)
            let junk = try await self.send(client, .post, "/api/classify", bytes: Array("junk".utf8))
            XCTAssertEqual(junk.status, .unsupportedMediaType)
            let noToken = try await self.send(client, .post, "/api/classify", bytes: crop, csrf: nil)
            XCTAssertEqual(noToken.status, .forbidden)
        }
    }
}
