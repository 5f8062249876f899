import Foundation
import GRDB
import Pipeline
@testable import WebApp
import XCTest

/// The web app's database on its own: the versioned schema, the append-only audit, the sign-off
/// lock, the reviewed tally, and what a restart makes of analyses cut short.
final class StoreTests: XCTestCase {
    var folder = ""

    override func setUp() {
        folder = NSTemporaryDirectory() + "smear-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func openStore() throws -> Store { try Store(path: folder + "/smear.sqlite") }

    /// A done analysis of one counted field with `calls` (class of each counted cell) and one border
    /// object; returns the store, sample and analysis ids and the counted cells' ids.
    func analysed(_ calls: [String], store: Store) throws -> (sample: Int64, analysis: Int64, cells: [Int64]) {
        let sample = try store.createSample(name: "patient", targetCells: nil)
        try store.addInput(sample: sample, name: "a.png", path: "samples/\(sample)/inputs/a.png", kind: "field", bytes: 1)
        let analysis = try store.queueAnalysis(sample: sample, model: "m", threshold: 0.5, settings: "{\"redCellsPerMicrolitre\":5000000}")
        XCTAssertEqual(try store.claimNext()?.id, analysis)
        var cells = calls.enumerated().map { i, c in
            StoredCell(objectId: i + 1, x: i, y: 0, width: 5, height: 5, centroidX: Double(i) + 2.5, centroidY: 2.5, area: 20,
                       status: "counted", class: c, pParasitized: c == "parasitized" ? 0.9 : 0.2, picture: nil, feature: nil)
        }
        cells.append(StoredCell(objectId: 99, x: 0, y: 0, width: 5, height: 5, centroidX: 2, centroidY: 2, area: 20, status: "border",
                                class: nil, pParasitized: nil, picture: nil, feature: nil))
        try store.insert(field: FieldRow(id: 0, name: "a.png", input: "a.png", originX: 0, originY: 0, width: 100, height: 100, counted: true,
                                         problem: nil, cellsCounted: calls.count, parasitized: calls.filter { $0 == "parasitized" }.count,
                                         overlay: nil), cells: cells, analysis: analysis)
        try store.finish(analysis: analysis, error: nil)
        let ids = try store.allCells(analysis: analysis).filter { $0.status == "counted" }.map(\.id)
        return (sample, analysis, ids)
    }

    func testMigrationsAreVersionedAndIdempotent() throws {
        _ = try openStore()
        let again = try openStore()   // a second open applies nothing new
        let applied = try again.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(applied, ["v1"])
        let tables = try again.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        for table in ["analysis", "cell", "failure", "field", "input", "review", "sample", "signoff"] { XCTAssertTrue(tables.contains(table), table) }
        let mode = try again.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
    }

    func testReviewsAreAppendOnlyAndTheLatestDecisionCounts() throws {
        let store = try openStore()
        let (sample, analysis, cells) = try analysed(["parasitized", "parasitized", "uninfected", "uninfected"], store: store)
        var t = try store.tallies(analysis: analysis)
        XCTAssertEqual(t.automatic, Tally(counted: 4, parasitized: 2))
        XCTAssertEqual(t.reviewed, t.automatic)

        try store.review(cell: cells[0], decision: "uninfected", reviewer: "Ana")   // reject a call
        try store.review(cell: cells[2], decision: "parasitized", reviewer: "Ana")  // a missed one
        try store.review(cell: cells[1], decision: "parasitized", reviewer: "Ana")  // confirm
        t = try store.tallies(analysis: analysis)
        XCTAssertEqual(t.reviewed, Tally(counted: 4, parasitized: 2))
        XCTAssertEqual(t.reviewedCells, 3)
        XCTAssertEqual(t.changed, 2)

        try store.review(cell: cells[2], decision: "uninfected", reviewer: "Ben")   // a change of mind adds a row
        t = try store.tallies(analysis: analysis)
        XCTAssertEqual(t.reviewed, Tally(counted: 4, parasitized: 1))
        XCTAssertEqual(t.changed, 1)
        let audit = try store.audit(sample: sample)
        XCTAssertEqual(audit.map(\.decision), ["uninfected", "parasitized", "parasitized", "uninfected"])
        XCTAssertEqual(audit.map(\.machine), ["parasitized", "uninfected", "parasitized", "uninfected"])
        XCTAssertEqual(audit.last?.reviewer, "Ben")

        // Nothing can be rewritten or removed, even with SQL.
        XCTAssertThrowsError(try store.pool.write { db in try db.execute(sql: "UPDATE review SET decision = 'parasitized'") })
        XCTAssertThrowsError(try store.pool.write { db in try db.execute(sql: "DELETE FROM review") })
        XCTAssertEqual(try store.audit(sample: sample).count, 4)
    }

    func testReviewRefusals() throws {
        let store = try openStore()
        let (_, analysis, cells) = try analysed(["parasitized"], store: store)
        XCTAssertThrowsError(try store.review(cell: cells[0], decision: "maybe", reviewer: "Ana")) { XCTAssertEqual(($0 as? StoreError)?.kind, .invalid) }
        XCTAssertThrowsError(try store.review(cell: cells[0], decision: "uninfected", reviewer: "  ")) { XCTAssertEqual(($0 as? StoreError)?.kind, .invalid) }
        XCTAssertThrowsError(try store.review(cell: 12345, decision: "uninfected", reviewer: "Ana")) { XCTAssertEqual(($0 as? StoreError)?.kind, .notFound) }
        let border = try store.allCells(analysis: analysis).first { $0.status == "border" }!
        XCTAssertThrowsError(try store.review(cell: border.id, decision: "uninfected", reviewer: "Ana")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
    }

    func testSignOffLocksTheSample() throws {
        let store = try openStore()
        let (sample, _, cells) = try analysed(["parasitized", "uninfected"], store: store)
        try store.review(cell: cells[0], decision: "uninfected", reviewer: "Ana")
        _ = try store.signOff(sample: sample, reviewer: "Ana", figures: "{}")
        XCTAssertEqual(try store.sample(sample).signedOffBy, "Ana")
        XCTAssertThrowsError(try store.signOff(sample: sample, reviewer: "Ben", figures: "{}")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
        XCTAssertThrowsError(try store.review(cell: cells[1], decision: "parasitized", reviewer: "Ana")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
        // The trigger refuses it too, whatever writes to the database.
        XCTAssertThrowsError(try store.pool.write { db in
            try db.execute(sql: "INSERT INTO review (cell_id, decision, machine, reviewer, at) VALUES (?, 'parasitized', 'uninfected', 'x', 'now')",
                           arguments: [cells[1]])
        })
        XCTAssertThrowsError(try store.pool.write { db in try db.execute(sql: "DELETE FROM signoff") })
        XCTAssertThrowsError(try store.queueAnalysis(sample: sample, model: "m", threshold: 0.5, settings: "{}")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
    }

    func testSignOffWaitsForADoneAnalysis() throws {
        let store = try openStore()
        let sample = try store.createSample(name: "p", targetCells: nil)
        XCTAssertThrowsError(try store.signOff(sample: sample, reviewer: "Ana", figures: "{}")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
        XCTAssertThrowsError(try store.queueAnalysis(sample: sample, model: "m", threshold: 0.5, settings: "{}")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
        try store.addInput(sample: sample, name: "a.png", path: "a.png", kind: "field", bytes: 1)
        _ = try store.queueAnalysis(sample: sample, model: "m", threshold: 0.5, settings: "{}")
        XCTAssertThrowsError(try store.queueAnalysis(sample: sample, model: "m", threshold: 0.5, settings: "{}"), "one analysis at a time")
        XCTAssertThrowsError(try store.signOff(sample: sample, reviewer: "Ana", figures: "{}")) { XCTAssertEqual(($0 as? StoreError)?.kind, .conflict) }
    }

    /// A server killed mid-analysis: on the next start its analysis shows as interrupted, the fields it
    /// had stored and the reviews made are all there, it can be resumed, and a resumed run does not
    /// store a field twice.
    func testRestartAfterAKillKeepsFieldsAndReviews() throws {
        var store: Store? = try openStore()
        let (sample, analysis, cells) = try analysed(["parasitized", "uninfected"], store: store!)
        try store!.pool.write { db in try db.execute(sql: "UPDATE analysis SET status = 'running', finished_at = NULL WHERE id = ?", arguments: [analysis]) }
        try store!.review(cell: cells[0], decision: "uninfected", reviewer: "Ana")
        store = nil   // the process is gone; WAL holds what was committed

        let restarted = try openStore()
        XCTAssertEqual(try restarted.markInterrupted(), 1)
        XCTAssertEqual(try restarted.analysis(analysis).status, "interrupted")
        XCTAssertEqual(try restarted.fields(analysis: analysis).count, 1)
        XCTAssertEqual(try restarted.audit(sample: sample).count, 1)
        XCTAssertThrowsError(try restarted.resume(analysis: 999)) { XCTAssertEqual(($0 as? StoreError)?.kind, .notFound) }
        try restarted.resume(analysis: analysis)
        XCTAssertEqual(try restarted.claimNext()?.id, analysis)
        // The resumed run meets the stored field again: it is kept as it was.
        try restarted.insert(field: FieldRow(id: 0, name: "a.png", input: "a.png", originX: 0, originY: 0, width: 1, height: 1, counted: true,
                                             problem: nil, cellsCounted: 0, parasitized: 0, overlay: nil), cells: [], analysis: analysis)
        XCTAssertEqual(try restarted.fields(analysis: analysis).map(\.cellsCounted), [2])
        XCTAssertThrowsError(try restarted.resume(analysis: analysis), "a running analysis is not resumed")
    }

    func testSampleSearchByNameAndDate() throws {
        let store = try openStore()
        _ = try store.createSample(name: "Ward 3 / 50%_x", targetCells: 5000)
        _ = try store.createSample(name: "other", targetCells: nil)
        XCTAssertEqual(try store.samples(search: "ward").map(\.name), ["Ward 3 / 50%_x"])
        XCTAssertEqual(try store.samples(search: "%").map(\.name), ["Ward 3 / 50%_x"], "LIKE wildcards are matched literally")
        XCTAssertEqual(try store.samples(search: "_x").count, 1)
        XCTAssertEqual(try store.samples().map(\.name), ["other", "Ward 3 / 50%_x"], "newest first")
        XCTAssertEqual(try store.samples(from: "2999-01-01").count, 0)
        XCTAssertEqual(try store.samples(from: "2000-01-01", to: "2999-01-01").count, 2)
    }
}
