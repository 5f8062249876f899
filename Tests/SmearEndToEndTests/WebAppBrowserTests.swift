import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `smear serve` in a real browser: Debian's chromium driven by chromedriver over WebDriver, as a user
/// would use the app: upload two fields, wait for the result, reject a call by keyboard, see the
/// reviewed parasitemia change, sign off and export; and the review speed of 100 keyboard decisions
/// (server-side p95 under 50 ms).
///
/// Screenshots of the main pages are kept in `$SMEAR_TEST_ARTEFACTS` (else /tmp/smear-test-artefacts).
/// Skipped when /usr/bin/chromium or /usr/bin/chromedriver is missing, unless CI=true (the CI script
/// installs them, so there it fails).
final class WebAppBrowserTests: XCTestCase {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let fields = ["PA171690.JPG", "PA171834.JPG"].map { Fixture.path("\(Fixture.images("iml-malaria"))/\($0)") }
    static let reviewer = "Dr Ada Test"

    var folder: URL!
    var server: SmearServerProcess?
    var driverProcess: ChromeDriverProcess?
    var browser: WebDriver?

    override func setUpWithError() throws {
        let fm = FileManager.default
        let missing = [Self.chromium, Self.chromedriver].filter { !fm.isExecutableFile(atPath: $0) }
        if !missing.isEmpty {
            let message = "\(missing.joined(separator: " and ")) missing: install Debian's chromium and chromium-driver to run the browser tests"
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw GiveUp(description: message + " (CI=true: the CI script installs them)") }
            throw XCTSkip(message)
        }
        guard smearBinary != nil else {
            throw GiveUp(description: "the smear executable was not found beside the test binary: run `swift build --build-tests` first, or set SMEAR_BINARY")
        }
        folder = makeTemporaryFolder()
    }

    override func tearDown() {
        let failed = (testRun?.totalFailureCount ?? 0) > 0
        browser?.deleteSession()
        browser = nil
        if let driverProcess {
            driverProcess.stop()
            if failed { print("chromedriver's log (end):\n" + ChromeDriverProcess.tail(driverProcess.log)) }
        }
        driverProcess = nil
        if let server {
            server.stop()
            if failed { print("smear serve's standard error:\n" + ChromeDriverProcess.tail(server.stderr)) }
        }
        server = nil
        if let folder { removeTemporaryFolder(folder) }
        super.tearDown()
    }

    // MARK: - The tests

    func testUploadReviewSignOffExport() throws {
        let (server, browser) = try start()

        // New sample: name, the two fields to the file input, start.
        try browser.navigate(server.url("/"))
        let name = "browser test \(UUID().uuidString.prefix(8))"
        try browser.sendKeys(try browser.findElement("#sample-name"), name)
        try browser.sendKeys(try browser.findElement("#files"), Self.fields.joined(separator: "\n"))
        try browser.click(try browser.findElement("#start"))

        // The page creates the sample, uploads, starts the analysis and shows the sample.
        let id: Int = try waitFor("the page to go to /samples/ID", timeout: 60) {
            let url = try browser.currentURL()
            if let error = try? browser.findElement("#form-error"), try browser.isDisplayed(error) {
                let text = try browser.text(error)
                if !text.isEmpty { throw GiveUp(description: "#form-error: \(text)") }
            }
            return url.range(of: #"/samples/(\d+)$"#, options: .regularExpression).flatMap { Int(url[$0].split(separator: "/").last!) }
        }
        _ = try waitFor("#sample-title", timeout: 30) { try? browser.findElement("#sample-title") }
        try screenshot(browser, "sample-running-or-done.png")
        try waitForDone(browser, timeout: 180)
        XCTAssertEqual(try browser.text(try browser.findElement("#sample-title")).contains(name), true, "#sample-title shows the sample's name")
        let detail = try server.json("/api/samples/\(id)")
        XCTAssertEqual(value(detail, "sample", "status") as? String, "done")
        XCTAssertEqual((value(detail, "fields") as? [Any])?.count, 2, "both fields analysed")
        let automatic = try XCTUnwrap(value(detail, "summary", "automatic", "parasitized") as? Int)
        XCTAssertEqual(value(detail, "summary", "reviewed", "parasitized") as? Int, automatic, "nothing reviewed yet")
        XCTAssertGreaterThan(automatic, 0, "the two fields have parasitized calls to review")
        XCTAssertEqual(try browser.attribute(try browser.findElement("#reviewed"), "data-parasitized"), "\(automatic)")

        // Reviewer's name, then a parasitized call made current by clicking its picture, rejected with N.
        try fillReviewer(browser)
        let cells = try browser.findElements(".cell")
        XCTAssertEqual(cells.count, (try server.jsonArray("/api/samples/\(id)/cells")).count, "one .cell per review candidate")
        XCTAssertEqual(try browser.findElements(".cell.current").count, 1, "exactly one current cell")
        let target = try XCTUnwrap(try browser.findElements(".cell[data-class=\"parasitized\"]").dropFirst().first
            ?? browser.findElements(".cell[data-class=\"parasitized\"]").first, "a .cell with data-class parasitized")
        let cellId = try XCTUnwrap(try browser.attribute(target, "data-cell-id"))
        XCTAssertEqual(try browser.attribute(target, "data-decision") ?? "", "", "no decision yet on cell \(cellId)")
        try makeCurrent(browser, cellId: cellId)
        try browser.pressKey("n")
        try waitFor("cell \(cellId) to show the decision uninfected", timeout: 15) {
            try browser.attribute(try browser.findElement(".cell[data-cell-id=\"\(cellId)\"]"), "data-decision") == "uninfected" ? true : nil
        }
        try waitFor("#reviewed data-parasitized to be \(automatic - 1)", timeout: 15) {
            try browser.attribute(try browser.findElement("#reviewed"), "data-parasitized") == "\(automatic - 1)" ? true : nil
        }
        XCTAssertNotEqual(try browser.attribute(try browser.findElement(".cell.current"), "data-cell-id"), cellId, "N moves on to the next cell")
        let reviewedPercent = try browser.attribute(try browser.findElement("#reviewed"), "data-percent")
        let reviewed = try server.json("/api/samples/\(id)")
        XCTAssertEqual(value(reviewed, "summary", "reviewed", "parasitized") as? Int, automatic - 1, "the API's reviewed count dropped by one")
        XCTAssertEqual(value(reviewed, "summary", "automatic", "parasitized") as? Int, automatic)
        XCTAssertEqual(value(reviewed, "summary", "cells_reviewed") as? Int, 1)
        XCTAssertEqual(value(reviewed, "summary", "calls_changed") as? Int, 1)
        let automaticPercent = try XCTUnwrap(value(reviewed, "summary", "automatic", "parasitemia_percent") as? Double)
        let reviewedAPI = try XCTUnwrap(value(reviewed, "summary", "reviewed", "parasitemia_percent") as? Double)
        XCTAssertLessThan(reviewedAPI, automaticPercent, "the reviewed parasitemia is below the automatic one after a rejection")
        XCTAssertEqual(try XCTUnwrap(reviewedPercent.flatMap(Double.init), "#reviewed data-percent"), reviewedAPI, accuracy: 0.0001,
                       "#reviewed data-percent is the API's reviewed parasitemia")
        let audit = try server.jsonArray("/api/samples/\(id)/audit")
        XCTAssertEqual(audit.count, 1, "one decision in the audit trail")
        let decision = try XCTUnwrap(audit.first as? [String: Any])
        XCTAssertEqual("\(decision["cell_id"] ?? "")", cellId)
        XCTAssertEqual(decision["decision"] as? String, "uninfected")
        XCTAssertEqual(decision["machine"] as? String, "parasitized")
        XCTAssertEqual(decision["reviewer"] as? String, Self.reviewer)
        try waitFor("#audit to list the decision", timeout: 15) {
            let text = try browser.text(try browser.findElement("#audit"))
            return text.contains("uninfected") && text.contains(Self.reviewer) ? true : nil
        }
        try screenshot(browser, "sample-reviewed.png")

        // Enter opens the viewer on the current cell, Escape closes it.
        try browser.pressKey(WebDriver.Key.enter)
        try waitFor("#viewer to open on Enter", timeout: 10) { try browser.isDisplayed(try browser.findElement("#viewer")) ? true : nil }
        Thread.sleep(forTimeInterval: 0.5)  // let its picture load
        try screenshot(browser, "viewer.png")
        try browser.pressKey(WebDriver.Key.escape)
        try waitFor("#viewer to close on Escape", timeout: 10) {
            guard let viewer = try? browser.findElement("#viewer") else { return true }
            return try browser.isDisplayed(viewer) ? nil : true
        }

        // Sign off (the page asks for confirmation).
        try browser.executeScript("window.confirm = () => true; return true;")
        try browser.click(try browser.findElement("#signoff"))
        let signed = try waitFor("#signed to say who signed off", timeout: 15) { () -> String? in
            guard let e = try? browser.findElement("#signed"), try browser.isDisplayed(e) else { return nil }
            let text = try browser.text(e)
            return text.contains("Signed off by") ? text : nil
        }
        XCTAssertTrue(signed.contains(Self.reviewer), "#signed names the reviewer: \(signed)")
        XCTAssertEqual(value(try server.json("/api/samples/\(id)"), "sample", "signed_off_by") as? String, Self.reviewer)
        try browser.executeScript("window.scrollTo(0, 0); return true;")
        try screenshot(browser, "signed-off.png")

        // Locked: a further Y stores nothing (and the API refuses a review).
        try browser.executeScript("if (document.activeElement) document.activeElement.blur(); return true;")
        try browser.pressKey("y")
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try server.jsonArray("/api/samples/\(id)/audit").count, 1, "no decision stored after sign-off")
        let refused = try server.api("POST", "/api/cells/\(cellId)/reviews", ["decision": "parasitized", "reviewer": Self.reviewer])
        XCTAssertEqual(refused.status, 409, "a review after sign-off is refused: \(refused.text)")

        // The four export links, fetched as the browser would.
        var exports: [String: HTTPReply] = [:]
        for file in ["cells.csv", "report.json", "cells.geojson", "report.html"] {
            let link = try browser.findElement("#exports a[data-export=\"\(file)\"]")
            let href = try XCTUnwrap(try browser.property(link, "href") as? String, "href of the \(file) link")
            let reply = try HTTP.get(try XCTUnwrap(URL(string: href)))
            XCTAssertEqual(reply.status, 200, "\(href): \(reply.text.prefix(200))")
            exports[file] = reply
        }
        let csv = parseCSV(exports["cells.csv"]?.text ?? "")
        let header = csv.first ?? []
        XCTAssertEqual(Array(header.suffix(3)), ["review", "reviewer", "reviewed_at"], "cells.csv header: \(header)")
        let field = try XCTUnwrap(decision["field"] as? String), object = "\(decision["object_id"] ?? "")"
        let rejectedLine = csv.dropFirst().first { $0.count == header.count && $0[0] == field && $0[1] == object }
        XCTAssertNotNil(rejectedLine, "cells.csv has the line of \(field) cell \(object)")
        if let line = rejectedLine, let review = header.firstIndex(of: "review"), let by = header.firstIndex(of: "reviewer") {
            XCTAssertEqual(line[review], "uninfected")
            XCTAssertEqual(line[by], Self.reviewer)
        }
        XCTAssertEqual(csv.dropFirst().filter { $0.count == header.count && $0[header.count - 3] != "" }.count, 1, "one reviewed line in cells.csv")
        let report = try XCTUnwrap(exports["report.json"]?.json, "report.json is JSON")
        XCTAssertEqual(value(report, "review", "signed_off_by") as? String, Self.reviewer)
        XCTAssertEqual(value(report, "review", "reviewed", "parasitized") as? Int, automatic - 1)
        XCTAssertEqual(value(report, "review", "automatic", "parasitized") as? Int, automatic)
        let geojson = try XCTUnwrap(exports["cells.geojson"]?.json, "cells.geojson is JSON")
        XCTAssertEqual(value(geojson, "type") as? String, "FeatureCollection")
        let features = (value(geojson, "features") as? [Any]) ?? []
        XCTAssertEqual(features.filter { value($0, "properties", "review") as? String == "uninfected" }.count, 1,
                       "one feature with properties.review uninfected, of \(features.count)")
        let html = exports["report.html"]?.text ?? ""
        XCTAssertTrue(html.contains("Signed off") && html.contains(Self.reviewer), "report.html says who signed off")
        XCTAssertFalse(html.contains("not yet (draft)"), "report.html is not a draft after sign-off")

        // The sample list shows it signed off.
        try browser.navigate(server.url("/"))
        var listed = ""
        let sampleURL = server.url("/samples/\(id)").absoluteString
        let found = try? waitFor("the sample in #samples, signed off", timeout: 15) { () -> String? in
            listed = try browser.text(try browser.findElement("#samples"))
            // The table row of the sample's a.sample-link, as one line.
            guard let link = try browser.findElements("#samples a.sample-link").first(where: { try browser.property($0, "href") as? String == sampleURL }),
                  let row = try browser.executeScript("return arguments[0].closest('tr').innerText.replace(/\\s+/g, ' ');", [link.json]) as? String
            else { return nil }
            return row.contains(name) && row.contains(Self.reviewer) ? row : nil
        }
        try screenshot(browser, "index.png")
        let row = try XCTUnwrap(found, "#samples has a.sample-link to \(sampleURL) in a row naming \(name) signed off by \(Self.reviewer); it shows:\n\(listed)")
        XCTAssertTrue(row.lowercased().contains("done"), "the list shows the analysis done: \(row)")

        // The date filter takes the browser's own days: today (from and to) keeps the sample, tomorrow not.
        // The browser is put in a zone whose date differs from UTC's at this hour (UTC−11 before 11:00 UTC,
        // UTC+14 after), where taking the days as UTC days would lose the sample.
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour ?? 0
        try browser.setTimeZone(hour < 11 ? "Pacific/Pago_Pago" : "Pacific/Kiritimati")
        func filter(from: Int, to: Int?) throws -> Int {
            let set = try browser.executeScript("""
                const day = (n) => { const d = new Date(); d.setDate(d.getDate() + n);
                  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
                const from = document.getElementById('from'), to = document.getElementById('to');
                from.value = day(arguments[0]); to.value = arguments[1] === null ? '' : day(arguments[1]);
                document.querySelector('#samples tbody').replaceChildren();
                from.dispatchEvent(new Event('change')); return true;
                """, [from, to.map { $0 as Any } ?? NSNull()])
            XCTAssertEqual(set as? Bool, true)
            return try waitFor("the list to follow the date filter", timeout: 15) { () -> Int? in
                let links = try browser.findElements("#samples a.sample-link").count
                let empty = try browser.findElements("#samples tr.empty").count
                return links > 0 || empty > 0 ? links : nil
            }
        }
        XCTAssertEqual(try filter(from: 0, to: 0), 1, "created today, local time")
        XCTAssertEqual(try filter(from: 1, to: nil), 0, "nothing from tomorrow on")

        // Check one cell: a parasitized cell picture of the fixtures.
        let cellPicture = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: Fixture.path("fixtures/cells/Parasitized"))
            .filter { $0.hasSuffix(".png") }.sorted().first, "a picture in fixtures/cells/Parasitized")
        try browser.navigate(server.url("/check"))
        try browser.sendKeys(try browser.findElement("#cell-file"), Fixture.path("fixtures/cells/Parasitized/\(cellPicture)"))
        let result = try waitFor("#result to give a class", timeout: 60) { () -> String? in
            let text = try browser.text(try browser.findElement("#result")).lowercased()
            return text.contains("parasitized") || text.contains("uninfected") ? text : nil
        }
        XCTAssertTrue(result.contains("parasitized"), "#result for \(cellPicture): \(result)")
        try waitFor("#heatmap to show", timeout: 15) { try browser.isDisplayed(try browser.findElement("#heatmap")) ? true : nil }
        Thread.sleep(forTimeInterval: 0.3)
        try screenshot(browser, "check.png")
    }

    func testKeyboardReviewSpeed() throws {
        let timings = folder.appendingPathComponent("review-timings.txt")
        let (server, browser) = try start(timings: timings)

        // A sample with well over 100 parasitized calls. A very low threshold (0.001) would make every
        // cell one, but then each field's parasitemia (100%) is beyond the quality limit of 50% and no
        // field is counted; so the two fields go in five times each (as other files) at threshold 0.027,
        // which calls 20–35% of their cells parasitized (how many depends on the model's calibration near
        // label smoothing's floor of 0.025; 23% for the bundled model): 230–450 calls to review.
        let created = try server.api("POST", "/api/samples", ["name": "keyboard speed"])
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap(value(created.json as Any, "id") as? Int)
        for copy in ["", "-2", "-3", "-4", "-5"] {
            for path in Self.fields {
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension + copy + ".JPG"
                let reply = try server.api("PUT", "/api/samples/\(id)/files/\(name)", body: try Data(contentsOf: URL(fileURLWithPath: path)))
                XCTAssertEqual(reply.status, 201, "upload \(name): \(reply.text)")
            }
        }
        let analysis = try server.api("POST", "/api/samples/\(id)/analyses", ["threshold": 0.027])
        XCTAssertEqual(analysis.status, 202, analysis.text)
        try waitFor("the analysis to finish", timeout: 180, interval: 0.5) { () -> Bool? in
            let detail = try server.json("/api/samples/\(id)")
            let status = value(detail, "sample", "status") as? String
            if status == "failed" || status == "interrupted" {
                throw GiveUp(description: "the analysis \(status!): \(value(detail, "sample", "error") ?? ""); fields: \(value(detail, "fields") ?? "")")
            }
            return status == "done" ? true : nil
        }
        let candidates = try server.jsonArray("/api/samples/\(id)/cells")
        XCTAssertGreaterThanOrEqual(candidates.count, 150, "well over 100 calls to review")
        XCTAssertEqual(candidates.filter { value($0, "class") as? String == "parasitized" }.count, candidates.count, "all are parasitized calls")

        try browser.navigate(server.url("/samples/\(id)"))
        try waitForDone(browser, timeout: 60)
        try fillReviewer(browser)
        try browser.executeScript("""
            if (document.activeElement) document.activeElement.blur();
            performance.setResourceTimingBufferSize(5000); performance.clearResourceTimings(); return true;
            """)
        let first = try browser.attribute(try browser.findElement(".cell.current"), "data-cell-id")
        XCTAssertEqual(first, try browser.attribute(try browser.findElements(".cell")[0], "data-cell-id"), "the first cell is current at the start")

        // 100 decisions, one key action each, as fast as WebDriver sends them.
        let started = Date()
        for _ in 0..<100 { try browser.pressKey("n") }
        let typed = Date().timeIntervalSince(started)
        let audit = try waitFor("100 decisions in the audit trail", timeout: 60, interval: 0.25) { () -> [Any]? in
            let rows = try server.jsonArray("/api/samples/\(id)/audit")
            return rows.count >= 100 ? rows : nil
        }
        let stored = Date().timeIntervalSince(started)
        XCTAssertEqual(audit.count, 100, "exactly 100 decisions stored")
        XCTAssertEqual(Set(audit.map { "\(value($0, "cell_id") ?? "")" }).count, 100, "100 different cells decided")
        XCTAssertTrue(audit.allSatisfy { value($0, "decision") as? String == "uninfected" && value($0, "reviewer") as? String == Self.reviewer })
        let summary = try server.json("/api/samples/\(id)")
        if let automatic = value(summary, "summary", "automatic", "parasitized") as? Int {
            XCTAssertEqual(value(summary, "summary", "reviewed", "parasitized") as? Int, automatic - 100)
        }
        try waitFor("the page to show 100 decisions", timeout: 15) {
            try browser.findElements(".cell[data-decision=\"uninfected\"]").count == 100 ? true : nil
        }

        // Server-side times of the review requests (SMEAR_SERVE_TIMINGS), else the browser's fetch times.
        let lines = (try? String(contentsOf: timings, encoding: .utf8))?.split(separator: "\n") ?? []
        var times = lines.compactMap { line -> Double? in
            let parts = line.split(separator: " ")
            return parts.count == 2 && parts[0] == "review_ms" ? Double(parts[1]) : nil
        }
        var source = "server-side"
        if times.isEmpty {
            source = "client-side fetch timing: the server wrote no SMEAR_SERVE_TIMINGS lines"
            times = (try browser.executeScript("""
                return performance.getEntriesByType('resource').filter(e => /\\/api\\/cells\\/\\d+\\/reviews/.test(e.name)).map(e => e.duration);
                """) as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue }
        }
        XCTAssertEqual(times.count, 100, "one timing per review request (\(source))")
        let p95 = percentile(times, 0.95)
        print(String(format: "review p95 %.2f ms over %d decisions (%@); median %.2f ms, max %.2f ms; 100 keys sent in %.2f s, all stored after %.2f s",
                     p95, times.count, source, percentile(times, 0.5), times.max() ?? 0, typed, stored))
        XCTAssertLessThan(p95, 50, "p95 of a review decision, \(source)")
        try screenshot(browser, "sample-speed-review.png")
    }

    // MARK: - Helpers

    /// The server on a fresh data folder, chromedriver and a headless chromium session; all three end in tearDown.
    func start(timings: URL? = nil) throws -> (SmearServerProcess, WebDriver) {
        let server = try SmearServerProcess(data: folder.appendingPathComponent("data"), logs: folder, timings: timings)
        self.server = server
        let driverProcess = try ChromeDriverProcess(log: folder.appendingPathComponent("chromedriver.log"))
        self.driverProcess = driverProcess
        let browser = WebDriver(base: driverProcess.base)
        try browser.newSession(binary: Self.chromium)
        self.browser = browser
        return (server, browser)
    }

    /// Waits until `#status` says done and the review grid has cells (fails early if it says failed).
    func waitForDone(_ browser: WebDriver, timeout: TimeInterval) throws {
        try waitFor("#status to say done and .cell elements", timeout: timeout, interval: 0.25) { () -> Bool? in
            let status = try browser.text(try browser.findElement("#status")).lowercased()
            if status.contains("failed") || status.contains("interrupted") { throw GiveUp(description: "#status: \(status)") }
            guard status.contains("done") else { return nil }
            return try browser.findElements("#review-grid .cell").isEmpty ? nil : true
        }
    }

    func fillReviewer(_ browser: WebDriver) throws {
        let reviewer = try browser.findElement("#reviewer")
        try browser.clear(reviewer)
        try browser.sendKeys(reviewer, Self.reviewer)
        // Some pages keep the name on change: leave the field (Tab fires change) before reviewing.
        try browser.executeScript("arguments[0].dispatchEvent(new Event('change', {bubbles: true})); arguments[0].blur(); return true;",
                                  [reviewer.json])
    }

    /// Makes the cell current by clicking its picture (or the cell), else with the arrow keys.
    func makeCurrent(_ browser: WebDriver, cellId: String) throws {
        func current() throws -> String? { try browser.attribute(try browser.findElement(".cell.current"), "data-cell-id") }
        let cell = try browser.findElement(".cell[data-cell-id=\"\(cellId)\"]")
        try browser.executeScript("arguments[0].scrollIntoView({block: 'center'}); return true;", [cell.json])
        try browser.click((try? browser.findElement("img", in: cell)) ?? cell)
        if (try? waitFor("cell \(cellId) to be current after a click", timeout: 3) { try current() == cellId ? true : nil }) != nil {
            // A click on the picture may open the viewer: close it so the keys go to the grid.
            if let viewer = try? browser.findElement("#viewer"), try browser.isDisplayed(viewer) { try browser.pressKey(WebDriver.Key.escape) }
            try browser.executeScript("if (document.activeElement && document.activeElement.matches('input, textarea')) document.activeElement.blur(); return true;")
            return
        }
        let ids = try browser.findElements(".cell").map { try browser.attribute($0, "data-cell-id") }
        let from = try XCTUnwrap(ids.firstIndex(of: try current())), to = try XCTUnwrap(ids.firstIndex(of: cellId))
        try browser.pressKeys(Array(repeating: to > from ? WebDriver.Key.arrowRight : WebDriver.Key.arrowLeft, count: abs(to - from)))
        try waitFor("cell \(cellId) to be current after arrow keys", timeout: 5) { try current() == cellId ? true : nil }
        XCTFail("clicking the picture of cell \(cellId) did not make it current (the arrow keys did)")
    }

    /// Saves a screenshot of the viewport to the artefacts folder and prints its path.
    func screenshot(_ browser: WebDriver, _ name: String) throws {
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SMEAR_TEST_ARTEFACTS"] ?? "/tmp/smear-test-artefacts")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try browser.screenshot().write(to: url)
        print("screenshot: \(url.path)")
    }
}

/// A value inside decoded JSON by object keys.
func value(_ json: Any?, _ keys: String...) -> Any? {
    var current = json
    for key in keys { current = (current as? [String: Any])?[key] }
    return current is NSNull ? nil : current
}

/// The nearest-rank percentile (`p` in 0…1) of `values`; 0 when empty.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
}
