import Foundation
import GRDB
import Pipeline

/// The web app's database: `smear.sqlite` in the data folder, SQLite in WAL mode through GRDB, so that
/// pages read while an analysis writes and a killed server loses nothing committed.
///
/// What it holds (schema `v1`, see `migrator`):
/// - `sample`: a named sample (the fields or slide of one patient) and its target count;
/// - `input`: the sample's files (uploaded into the data folder, or picked from a folder under it);
/// - `analysis`: one run of a sample with its settings and model, its state (`queued`, `running`,
///   `done`, `failed`, `interrupted`), progress and error;
/// - `field`: each field (or slide tile) analysed, stored as soon as it is analysed, with whether it is
///   counted (passed quality control) and why not;
/// - `cell`: every object found, with its box, status, class and probability, and the file of its
///   picture for review candidates;
/// - `failure`: inputs that could not be analysed;
/// - `review`: reviewers' decisions, append-only (triggers refuse UPDATE and DELETE): a change of
///   mind adds a row, the latest row of a cell is its decision, and every row keeps what the machine
///   had said;
/// - `signoff`: a sample's sign-off, at most one, append-only; reviews of a signed-off sample are
///   refused by a trigger as well as by the API.
///
/// Timestamps are ISO 8601 UTC strings. All methods are safe from any thread.
public final class Store: Sendable {
    public let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// The versioned schema. A new version is a new `registerMigration` below the others; a released
    /// migration is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE sample (
                    id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
                    target_cells INTEGER, folder TEXT);
                CREATE TABLE input (
                    id INTEGER PRIMARY KEY, sample_id INTEGER NOT NULL REFERENCES sample(id),
                    name TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('field', 'slide')),
                    bytes INTEGER NOT NULL, UNIQUE (sample_id, name));
                CREATE TABLE analysis (
                    id INTEGER PRIMARY KEY, sample_id INTEGER NOT NULL REFERENCES sample(id),
                    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'interrupted')),
                    model TEXT NOT NULL, threshold REAL NOT NULL, settings TEXT NOT NULL,
                    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
                    done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, error TEXT);
                CREATE TABLE field (
                    id INTEGER PRIMARY KEY, analysis_id INTEGER NOT NULL REFERENCES analysis(id),
                    name TEXT NOT NULL, input TEXT NOT NULL, origin_x INTEGER NOT NULL, origin_y INTEGER NOT NULL,
                    width INTEGER NOT NULL, height INTEGER NOT NULL, counted INTEGER NOT NULL, problem TEXT,
                    cells_counted INTEGER NOT NULL, parasitized INTEGER NOT NULL, overlay TEXT,
                    UNIQUE (analysis_id, name));
                CREATE TABLE cell (
                    id INTEGER PRIMARY KEY, field_id INTEGER NOT NULL REFERENCES field(id),
                    object_id INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
                    width INTEGER NOT NULL, height INTEGER NOT NULL, centroid_x REAL NOT NULL, centroid_y REAL NOT NULL,
                    area INTEGER NOT NULL, status TEXT NOT NULL, class TEXT, p_parasitized REAL, picture TEXT,
                    feature TEXT, UNIQUE (field_id, object_id));
                CREATE INDEX cell_by_probability ON cell (field_id, p_parasitized);
                CREATE TABLE failure (
                    id INTEGER PRIMARY KEY, analysis_id INTEGER NOT NULL REFERENCES analysis(id),
                    input TEXT NOT NULL, message TEXT NOT NULL);
                CREATE TABLE review (
                    id INTEGER PRIMARY KEY, cell_id INTEGER NOT NULL REFERENCES cell(id),
                    decision TEXT NOT NULL CHECK (decision IN ('parasitized', 'uninfected')),
                    machine TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL);
                CREATE INDEX review_by_cell ON review (cell_id, id);
                CREATE TABLE signoff (
                    id INTEGER PRIMARY KEY, sample_id INTEGER NOT NULL UNIQUE REFERENCES sample(id),
                    reviewer TEXT NOT NULL, at TEXT NOT NULL, figures TEXT NOT NULL);
                CREATE TRIGGER review_no_update BEFORE UPDATE ON review BEGIN
                    SELECT RAISE(ABORT, 'review decisions are append-only'); END;
                CREATE TRIGGER review_no_delete BEFORE DELETE ON review BEGIN
                    SELECT RAISE(ABORT, 'review decisions are append-only'); END;
                CREATE TRIGGER signoff_no_update BEFORE UPDATE ON signoff BEGIN
                    SELECT RAISE(ABORT, 'a sign-off cannot be changed'); END;
                CREATE TRIGGER signoff_no_delete BEFORE DELETE ON signoff BEGIN
                    SELECT RAISE(ABORT, 'a sign-off cannot be changed'); END;
                CREATE TRIGGER review_locked BEFORE INSERT ON review
                    WHEN EXISTS (SELECT 1 FROM signoff s JOIN analysis a ON a.sample_id = s.sample_id
                                 JOIN field f ON f.analysis_id = a.id JOIN cell c ON c.field_id = f.id
                                 WHERE c.id = NEW.cell_id)
                    BEGIN SELECT RAISE(ABORT, 'the sample is signed off'); END;
                """)
        }
        return migrator
    }

    /// The current time as stored.
    static func now() -> String { timestamp.string(from: Date()) }
    nonisolated(unsafe) static let timestamp: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

// MARK: - Rows

/// A sample as listed and shown: its latest analysis's state and figures, automatic and reviewed.
public struct SampleRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var name: String
    public var createdAt: String
    public var targetCells: Int?
    public var folder: String?
    public var analysisId: Int64?
    public var status: String?
    public var done: Int?
    public var total: Int?
    public var error: String?
    public var signedOffBy: String?
    public var signedOffAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, createdAt = "created_at", targetCells = "target_cells", folder, analysisId = "analysis_id", status,
             done, total, error, signedOffBy = "signed_off_by", signedOffAt = "signed_off_at"
    }

    static let query = """
        SELECT s.id, s.name, s.created_at, s.target_cells, s.folder, a.id AS analysis_id, a.status, a.done, a.total,
               a.error, g.reviewer AS signed_off_by, g.at AS signed_off_at
        FROM sample s
        LEFT JOIN analysis a ON a.id = (SELECT MAX(id) FROM analysis WHERE sample_id = s.id)
        LEFT JOIN signoff g ON g.sample_id = s.id
        """
}

/// An input file of a sample.
public struct InputRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var name: String
    /// Relative to the data folder.
    public var path: String
    public var kind: String
    public var bytes: Int64
}

/// A field (or slide tile) as stored.
public struct FieldRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var name: String
    public var input: String
    public var originX: Int
    public var originY: Int
    public var width: Int
    public var height: Int
    public var counted: Bool
    public var problem: String?
    public var cellsCounted: Int
    public var parasitized: Int
    /// The overlay picture, relative to the data folder (fields only).
    public var overlay: String?

    enum CodingKeys: String, CodingKey {
        case id, name, input, originX = "origin_x", originY = "origin_y", width, height, counted, problem,
             cellsCounted = "cells_counted", parasitized, overlay
    }
}

/// A cell as stored, with its review state: the latest decision, by whom and when.
public struct CellRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var fieldId: Int64
    public var field: String
    public var objectId: Int
    public var x: Int, y: Int, width: Int, height: Int
    public var centroidX: Double, centroidY: Double
    public var area: Int
    public var status: String
    public var `class`: String?
    public var pParasitized: Double?
    /// The review picture, relative to the data folder (review candidates only).
    public var picture: String?
    public var decision: String?
    public var reviewer: String?
    public var reviewedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, fieldId = "field_id", field, objectId = "object_id", x, y, width, height, centroidX = "centroid_x",
             centroidY = "centroid_y", area, status, `class`, pParasitized = "p_parasitized", picture, decision, reviewer,
             reviewedAt = "reviewed_at"
    }

    /// Cells with their field's name and latest decision; append WHERE / ORDER clauses.
    static let query = """
        SELECT c.id, c.field_id, f.name AS field, c.object_id, c.x, c.y, c.width, c.height, c.centroid_x, c.centroid_y,
               c.area, c.status, c.class, c.p_parasitized, c.picture, r.decision, r.reviewer, r.at AS reviewed_at
        FROM cell c JOIN field f ON f.id = c.field_id
        LEFT JOIN review r ON r.id = (SELECT MAX(id) FROM review WHERE cell_id = c.id)
        """
}

/// One row of the audit trail: a decision on a cell, with what the machine had said.
public struct ReviewRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var cellId: Int64
    public var field: String
    public var objectId: Int
    public var decision: String
    public var machine: String
    public var pParasitized: Double?
    public var reviewer: String
    public var at: String

    enum CodingKeys: String, CodingKey {
        case id, cellId = "cell_id", field, objectId = "object_id", decision, machine, pParasitized = "p_parasitized", reviewer, at
    }
}

/// An analysis's settings and model, as stored.
public struct AnalysisRow: Codable, Sendable, FetchableRecord {
    public var id: Int64
    public var sampleId: Int64
    public var status: String
    public var model: String
    public var threshold: Double
    public var settings: String
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var done: Int
    public var total: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, sampleId = "sample_id", status, model, threshold, settings, createdAt = "created_at",
             startedAt = "started_at", finishedAt = "finished_at", done, total, error
    }
}

// MARK: - Queries and changes

/// A request the store refuses: unknown id (`notFound`), or a change the sample's state forbids
/// (`conflict`: signed off, still running…). The message is one line for the user.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable { case notFound, conflict, invalid }
    public var kind: Kind
    public var description: String
    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

extension Store {
    /// Creates a sample with no inputs yet.
    public func createSample(name: String, targetCells: Int?, folder: String? = nil) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO sample (name, created_at, target_cells, folder) VALUES (?, ?, ?, ?)",
                           arguments: [name, Self.now(), targetCells, folder])
            return db.lastInsertedRowID
        }
    }

    public func addInput(sample: Int64, name: String, path: String, kind: String, bytes: Int64) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO input (sample_id, name, path, kind, bytes) VALUES (?, ?, ?, ?, ?)",
                           arguments: [sample, name, path, kind, bytes])
        }
    }

    /// Samples, newest first, whose name contains `search` (any case) and created on or after `from`
    /// and before `to` (ISO dates, `YYYY-MM-DD`), at most `limit`.
    public func samples(search: String? = nil, from: String? = nil, to: String? = nil, limit: Int = 200) throws -> [SampleRow] {
        try pool.read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let search, !search.isEmpty {
                clauses.append("s.name LIKE ? ESCAPE '\\'")
                let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                _ = arguments.append(contentsOf: ["%" + escaped + "%"])
            }
            if let from { clauses.append("s.created_at >= ?"); _ = arguments.append(contentsOf: [from]) }
            if let to { clauses.append("s.created_at < ?"); _ = arguments.append(contentsOf: [to]) }
            let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [limit])
            return try SampleRow.fetchAll(db, sql: SampleRow.query + filter + " ORDER BY s.id DESC LIMIT ?", arguments: arguments)
        }
    }

    public func sample(_ id: Int64) throws -> SampleRow {
        guard let row = try pool.read({ db in try SampleRow.fetchOne(db, sql: SampleRow.query + " WHERE s.id = ?", arguments: [id]) }) else {
            throw StoreError(.notFound, "no sample \(id)")
        }
        return row
    }

    public func inputs(sample: Int64) throws -> [InputRow] {
        try pool.read { db in
            try InputRow.fetchAll(db, sql: "SELECT id, name, path, kind, bytes FROM input WHERE sample_id = ? ORDER BY name", arguments: [sample])
        }
    }

    public func analysis(_ id: Int64) throws -> AnalysisRow {
        guard let row = try pool.read({ db in try AnalysisRow.fetchOne(db, sql: "SELECT * FROM analysis WHERE id = ?", arguments: [id]) }) else {
            throw StoreError(.notFound, "no analysis \(id)")
        }
        return row
    }

    /// Queues a new analysis of the sample with these settings; refused while one is queued or running,
    /// after sign-off, and for a sample without inputs.
    public func queueAnalysis(sample: Int64, model: String, threshold: Double, settings: String) throws -> Int64 {
        try pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample WHERE id = ?", arguments: [sample]) == 1 else {
                throw StoreError(.notFound, "no sample \(sample)")
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM input WHERE sample_id = ?", arguments: [sample])! > 0 else {
                throw StoreError(.conflict, "the sample has no images yet")
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signoff WHERE sample_id = ?", arguments: [sample]) == 0 else {
                throw StoreError(.conflict, "the sample is signed off")
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM analysis WHERE sample_id = ? AND status IN ('queued', 'running')",
                                   arguments: [sample]) == 0 else {
                throw StoreError(.conflict, "the sample is already being analysed")
            }
            try db.execute(sql: "INSERT INTO analysis (sample_id, status, model, threshold, settings, created_at) VALUES (?, 'queued', ?, ?, ?, ?)",
                           arguments: [sample, model, threshold, settings, Self.now()])
            return db.lastInsertedRowID
        }
    }

    /// Puts an interrupted or failed analysis back in the queue, to continue where it stopped: fields
    /// already stored are kept (with their reviews) and not stored again.
    public func resume(analysis id: Int64) throws {
        try pool.write { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM analysis WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no analysis \(id)")
            }
            guard status == "interrupted" || status == "failed" else {
                throw StoreError(.conflict, "only an interrupted or failed analysis can be resumed (this one is \(status))")
            }
            try db.execute(sql: "UPDATE analysis SET status = 'queued', error = NULL, finished_at = NULL WHERE id = ?", arguments: [id])
        }
    }

    /// Takes the oldest queued analysis and marks it running; nil when none is queued.
    func claimNext() throws -> AnalysisRow? {
        try pool.write { db in
            guard let row = try AnalysisRow.fetchOne(db, sql: "SELECT * FROM analysis WHERE status = 'queued' ORDER BY id LIMIT 1") else { return nil }
            try db.execute(sql: "UPDATE analysis SET status = 'running', started_at = ? WHERE id = ?", arguments: [Self.now(), row.id])
            return row
        }
    }

    /// Marks analyses left running by a server that stopped without finishing them as interrupted.
    /// Called once at start-up, before any worker runs; returns how many.
    @discardableResult
    public func markInterrupted() throws -> Int {
        try pool.write { db in
            try db.execute(sql: "UPDATE analysis SET status = 'interrupted', error = 'the server stopped during the analysis' WHERE status = 'running'")
            return db.changesCount
        }
    }

    func setProgress(analysis: Int64, done: Int, total: Int) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE analysis SET done = ?, total = ? WHERE id = ?", arguments: [done, total, analysis])
        }
    }

    func finish(analysis: Int64, error: String?) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE analysis SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                           arguments: [error == nil ? "done" : "failed", error, Self.now(), analysis])
        }
    }

    /// Whether the analysis already stored the field `name` (a resumed run skips it).
    func hasField(analysis: Int64, name: String) throws -> Bool {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM field WHERE analysis_id = ? AND name = ?", arguments: [analysis, name])! > 0
        }
    }

    /// A field and all its objects, in one transaction (all stored or none). Ignored when the
    /// analysis already holds a field of that name.
    func insert(field: FieldRow, cells: [StoredCell], analysis: Int64) throws {
        try pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM field WHERE analysis_id = ? AND name = ?", arguments: [analysis, field.name])! == 0 else { return }
            try db.execute(sql: """
                INSERT INTO field (analysis_id, name, input, origin_x, origin_y, width, height, counted, problem, cells_counted,
                                   parasitized, overlay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [analysis, field.name, field.input, field.originX, field.originY, field.width, field.height,
                                 field.counted, field.problem, field.cellsCounted, field.parasitized, field.overlay])
            let fieldId = db.lastInsertedRowID
            let statement = try db.makeStatement(sql: """
                INSERT INTO cell (field_id, object_id, x, y, width, height, centroid_x, centroid_y, area, status, class, p_parasitized,
                                  picture, feature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for c in cells {
                try statement.execute(arguments: [fieldId, c.objectId, c.x, c.y, c.width, c.height, c.centroidX, c.centroidY, c.area,
                                                  c.status, c.class, c.pParasitized, c.picture, c.feature])
            }
        }
    }

    func insertFailure(analysis: Int64, input: String, message: String) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO failure (analysis_id, input, message) VALUES (?, ?, ?)", arguments: [analysis, input, message])
        }
    }

    public func fields(analysis: Int64) throws -> [FieldRow] {
        try pool.read { db in
            try FieldRow.fetchAll(db, sql: """
                SELECT id, name, input, origin_x, origin_y, width, height, counted, problem, cells_counted, parasitized, overlay
                FROM field WHERE analysis_id = ? ORDER BY id
                """, arguments: [analysis])
        }
    }

    public func failures(analysis: Int64) throws -> [(input: String, message: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT input, message FROM failure WHERE analysis_id = ? ORDER BY id", arguments: [analysis])
                .map { ($0["input"], $0["message"]) }
        }
    }

    /// The cells a reviewer goes through, in this order: every counted cell called parasitized (most
    /// probable first), then the `doubtful` uninfected ones closest to the threshold (probability at
    /// least `Review.doubtfulFloor`), of counted fields only.
    public func reviewCells(analysis: Int64, doubtful: Int = Review.doubtfulCount) throws -> [CellRow] {
        try pool.read { db in
            let base = CellRow.query + " WHERE f.analysis_id = ? AND f.counted = 1 AND c.status = 'counted' AND c.class = ?"
            let parasitized = try CellRow.fetchAll(db, sql: base + " ORDER BY c.p_parasitized DESC, c.id", arguments: [analysis, "parasitized"])
            let uninfected = try CellRow.fetchAll(db, sql: base + " AND c.p_parasitized >= ? ORDER BY c.p_parasitized DESC, c.id LIMIT ?",
                                                  arguments: [analysis, "uninfected", Review.doubtfulFloor, doubtful])
            return parasitized + uninfected
        }
    }

    /// Every object of the analysis, in field then object order.
    public func allCells(analysis: Int64) throws -> [CellRow] {
        try pool.read { db in
            try CellRow.fetchAll(db, sql: CellRow.query + " WHERE f.analysis_id = ? ORDER BY f.id, c.object_id", arguments: [analysis])
        }
    }

    public func cell(_ id: Int64) throws -> (cell: CellRow, sample: Int64, analysis: Int64) {
        guard let found = try pool.read({ db -> (CellRow, Int64, Int64)? in
            guard let cell = try CellRow.fetchOne(db, sql: CellRow.query + " WHERE c.id = ?", arguments: [id]),
                  let row = try Row.fetchOne(db, sql: "SELECT a.sample_id, a.id FROM field f JOIN analysis a ON a.id = f.analysis_id WHERE f.id = ?",
                                             arguments: [cell.fieldId]) else { return nil }
            return (cell, row[0], row[1])
        }) else { throw StoreError(.notFound, "no cell \(id)") }
        return found
    }

    /// GeoJSON features of the analysis's objects that have one (as `SlideOutputs.feature` wrote them).
    func features(analysis: Int64) throws -> [(cell: Int64, feature: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.id, c.feature FROM cell c JOIN field f ON f.id = c.field_id
                WHERE f.analysis_id = ? AND c.feature IS NOT NULL ORDER BY f.id, c.object_id
                """, arguments: [analysis]).map { ($0[0], $0[1]) }
        }
    }

    /// Records a reviewer's decision on a cell (appended; the cell's latest decision counts). Refused
    /// for an unknown cell, a cell not counted or not classified, and a signed-off sample.
    @discardableResult
    public func review(cell: Int64, decision: String, reviewer: String) throws -> ReviewRow {
        guard decision == "parasitized" || decision == "uninfected" else {
            throw StoreError(.invalid, "decision must be 'parasitized' or 'uninfected'")
        }
        let name = reviewer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw StoreError(.invalid, "give the reviewer's name (at most 100 characters)") }
        return try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT c.class, c.status, a.sample_id FROM cell c JOIN field f ON f.id = c.field_id JOIN analysis a ON a.id = f.analysis_id
                WHERE c.id = ?
                """, arguments: [cell]) else { throw StoreError(.notFound, "no cell \(cell)") }
            guard let machine: String = row["class"], row["status"] == "counted" else {
                throw StoreError(.conflict, "cell \(cell) was not counted and classified, so it has no call to review")
            }
            let sample: Int64 = row["sample_id"]
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signoff WHERE sample_id = ?", arguments: [sample]) == 0 else {
                throw StoreError(.conflict, "the sample is signed off; its review is locked")
            }
            let at = Self.now()
            try db.execute(sql: "INSERT INTO review (cell_id, decision, machine, reviewer, at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [cell, decision, machine, name, at])
            return try ReviewRow.fetchOne(db, sql: Self.auditQuery + " WHERE r.id = ?", arguments: [db.lastInsertedRowID])!
        }
    }

    static let auditQuery = """
        SELECT r.id, r.cell_id, f.name AS field, c.object_id, r.decision, r.machine, c.p_parasitized, r.reviewer, r.at
        FROM review r JOIN cell c ON c.id = r.cell_id JOIN field f ON f.id = c.field_id
        """

    /// Every decision on the sample's cells, oldest first.
    public func audit(sample: Int64) throws -> [ReviewRow] {
        try pool.read { db in
            try ReviewRow.fetchAll(db, sql: Self.auditQuery + " JOIN analysis a ON a.id = f.analysis_id WHERE a.sample_id = ? ORDER BY r.id",
                                   arguments: [sample])
        }
    }

    /// The automatic and reviewed counts of an analysis's counted fields: counted cells, cells the
    /// machine called parasitized, and those parasitized once each cell's latest decision replaces the
    /// machine's call (`Review`); with the cells decided on and those whose call the decision changed.
    public func tallies(analysis: Int64) throws -> (automatic: Tally, reviewed: Tally, reviewedCells: Int, changed: Int) {
        try pool.read { db in
            let totals = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(cells_counted), 0), COALESCE(SUM(parasitized), 0) FROM field WHERE analysis_id = ? AND counted = 1
                """, arguments: [analysis])!
            let automatic = Tally(counted: totals[0], parasitized: totals[1])
            let changes = try Row.fetchOne(db, sql: """
                SELECT COUNT(*),
                       COALESCE(SUM(CASE WHEN r.decision = 'parasitized' AND c.class = 'uninfected' THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN r.decision = 'uninfected' AND c.class = 'parasitized' THEN 1 ELSE 0 END), 0)
                FROM review r JOIN cell c ON c.id = r.cell_id JOIN field f ON f.id = c.field_id
                WHERE f.analysis_id = ? AND f.counted = 1 AND c.status = 'counted'
                  AND r.id = (SELECT MAX(id) FROM review WHERE cell_id = r.cell_id)
                """, arguments: [analysis])!
            let (reviewedCells, gained, lost): (Int, Int, Int) = (changes[0], changes[1], changes[2])
            return (automatic, Tally(counted: automatic.counted, parasitized: automatic.parasitized + gained - lost), reviewedCells, gained + lost)
        }
    }

    /// Signs the sample off: stores the reviewer, the time and the figures (`figures`, JSON), and locks
    /// the sample. Refused twice, and while an analysis is queued or running or none has finished.
    public func signOff(sample: Int64, reviewer: String, figures: String) throws -> String {
        let name = reviewer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw StoreError(.invalid, "give the reviewer's name (at most 100 characters)") }
        return try pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample WHERE id = ?", arguments: [sample]) == 1 else {
                throw StoreError(.notFound, "no sample \(sample)")
            }
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signoff WHERE sample_id = ?", arguments: [sample]) == 0 else {
                throw StoreError(.conflict, "the sample is already signed off")
            }
            let status = try String.fetchOne(db, sql: "SELECT status FROM analysis WHERE sample_id = ? ORDER BY id DESC LIMIT 1", arguments: [sample])
            guard status == "done" else {
                throw StoreError(.conflict, "the sample can be signed off once its analysis is done (it is \(status ?? "not started"))")
            }
            let at = Self.now()
            try db.execute(sql: "INSERT INTO signoff (sample_id, reviewer, at, figures) VALUES (?, ?, ?, ?)", arguments: [sample, name, at, figures])
            return at
        }
    }

    /// The stored sign-off figures (JSON), if signed off.
    public func signOffFigures(sample: Int64) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT figures FROM signoff WHERE sample_id = ?", arguments: [sample]) }
    }
}

/// An object as the analysis sink stores it.
struct StoredCell: Sendable {
    var objectId: Int
    var x: Int, y: Int, width: Int, height: Int
    var centroidX: Double, centroidY: Double
    var area: Int
    var status: String
    var `class`: String?
    var pParasitized: Double?
    var picture: String?
    var feature: String?
}
