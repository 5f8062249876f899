import Classifier
import Foundation
import Pipeline
import Reports

/// A sample's reviewed results as the files `smear analyze` writes, with the review added:
/// - `cells.csv`: cells.csv's columns, then `review` (the latest decision, empty if none),
///   `reviewer` and `reviewed_at`;
/// - `report.json`: the analysis's report.json with a `review` section (automatic and reviewed
///   figures, sign-off, every decision);
/// - `cells.geojson`: QuPath's shape as `smear analyze` writes it for slides, each feature with
///   `properties.review` and, where the decision differs, the reviewed classification; a field's
///   features carry `properties.image`, the field's file, since their coordinates are its pixels;
/// - `report.html`: a printable page with both figures, the sign-off and the decisions.
/// Built from the database on request; at sign-off also written to `samples/ID/export/`.
struct ReviewExport {
    let store: Store
    let data: DataFolder
    let sample: SampleRow
    let analysis: AnalysisRow
    /// The model's operating point, when the analysis was made at it (`AnalysisQueue.operatingPoint(of:)`).
    let operatingPoint: OperatingPoint?

    static let files = ["cells.csv", "report.json", "cells.geojson", "report.html"]

    init(store: Store, data: DataFolder, sample id: Int64, queue: AnalysisQueue) throws {
        self.store = store
        self.data = data
        sample = try store.sample(id)
        guard let analysisId = sample.analysisId else { throw StoreError(.conflict, "the sample has not been analysed") }
        analysis = try store.analysis(analysisId)
        guard analysis.status == "done" else { throw StoreError(.conflict, "the sample's analysis is not done (it is \(analysis.status))") }
        operatingPoint = queue.operatingPoint(of: analysis)
    }

    /// The bytes and content type of an export file, or nil for another name.
    func file(_ name: String) throws -> ([UInt8], String)? {
        switch name {
        case "cells.csv": return (Array(try cellsCSV().utf8), "text/csv; charset=utf-8")
        case "report.json": return (try reportJSON(), "application/json")
        case "cells.geojson": return (Array(try geojson().utf8), "application/geo+json")
        case "report.html": return (Array(try html().utf8), "text/html; charset=utf-8")
        default: return nil
        }
    }

    /// Writes every export file into `samples/ID/export/` (each whole or not at all).
    func write() throws {
        let folder = data.absolute("samples/\(sample.id)/export")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in Self.files {
            guard let (bytes, _) = try file(name) else { continue }
            try Data(bytes).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)), options: .atomic)
        }
    }

    func cellsCSV() throws -> String {
        var lines = [AnalysisReport.csvHeader + "," + CSVTable.line(["review", "reviewer", "reviewed_at"])]
        for c in try store.allCells(analysis: analysis.id) {
            lines.append(CSVTable.line([c.field, String(c.objectId), String(c.x), String(c.y), String(c.width), String(c.height),
                                        String(format: "%.1f", c.centroidX), String(format: "%.1f", c.centroidY), String(c.area), c.status,
                                        c.class ?? "", c.pParasitized.map { String(format: "%.4f", $0) } ?? "",
                                        c.decision ?? "", c.reviewer ?? "", c.reviewedAt ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `review` section of report.json.
    struct Section: Encodable {
        var sample: String
        var signedOffBy: String?
        var signedOffAt: String?
        var automatic: Review.Figures
        var reviewed: Review.Figures
        var cellsReviewed: Int
        var callsChanged: Int
        var decisions: [ReviewRow]
    }

    func section() throws -> Section {
        let perUL = (try? JSONDecoder().decode(AnalysisSettings.self, from: Data(analysis.settings.utf8)))?.redCellsPerMicrolitre ?? 5.0e6
        let t = try store.tallies(analysis: analysis.id)
        return Section(sample: sample.name, signedOffBy: sample.signedOffBy, signedOffAt: sample.signedOffAt,
                       automatic: .init(t.automatic, redCellsPerMicrolitre: perUL, operatingPoint: operatingPoint), reviewed: .init(t.reviewed, redCellsPerMicrolitre: perUL),
                       cellsReviewed: t.reviewedCells, callsChanged: t.changed, decisions: try store.audit(sample: sample.id))
    }

    func reportJSON() throws -> [UInt8] {
        let path = data.absolute(AnalysisQueue.folder(sample: sample.id, analysis: analysis.id) + "/output/report.json")
        var report = (FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) ?? [:]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        report["review"] = try JSONSerialization.jsonObject(with: encoder.encode(try section()))
        return Array(try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
    }

    func geojson() throws -> String {
        let cells = Dictionary(uniqueKeysWithValues: try store.allCells(analysis: analysis.id).map { ($0.id, $0) })
        let slide = try store.inputs(sample: sample.id).allSatisfy { $0.kind == "slide" }
        var features: [String] = []
        for (id, feature) in try store.features(analysis: analysis.id) {
            guard let cell = cells[id], var object = try JSONSerialization.jsonObject(with: Data(feature.utf8)) as? [String: Any],
                  var properties = object["properties"] as? [String: Any] else { continue }
            if !slide { properties["image"] = cell.field }
            properties["review"] = cell.decision ?? NSNull()
            if let decision = cell.decision, decision != cell.class {
                properties["classification"] = decision == "parasitized"
                    ? ["name": "Parasitized", "color": [Int(Overlay.parasitizedColor.0), Int(Overlay.parasitizedColor.1), Int(Overlay.parasitizedColor.2)]]
                    : ["name": "Uninfected", "color": [Int(Overlay.color(of: .counted).0), Int(Overlay.color(of: .counted).1), Int(Overlay.color(of: .counted).2)]]
            }
            object["properties"] = properties
            features.append(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        }
        return "{\"type\":\"FeatureCollection\",\"features\":[\n" + features.joined(separator: ",\n") + "\n]}\n"
    }

    func html() throws -> String {
        let s = try section()
        func figure(_ f: Review.Figures) -> String {
            guard let p = f.parasitemiaPercent, let ci = f.parasitemiaCi95Percent, let perUL = f.parasitesPerMicrolitre else { return "no cells counted" }
            var text = String(format: "%.2f %% (95 %% CI %.2f–%.2f %%), %d of %d cells, %.0f parasites/µL", p, ci[0], ci[1], f.parasitized, f.cellsCounted, perUL)
            if let a = f.adjustedParasitemiaPercent, let aci = f.adjustedParasitemiaCi95Percent {
                text += String(format: "; adjusted for the classifier's errors %.2f %% (%.2f–%.2f %%)", a, aci[0], aci[1])
            }
            return text
        }
        let rows = s.decisions.map { d in
            "<tr><td>\(escape(d.at))</td><td>\(escape(d.reviewer))</td><td>\(escape(d.field))</td><td>\(d.objectId)</td><td>\(d.machine)</td>"
                + "<td>\(d.pParasitized.map { String(format: "%.3f", $0) } ?? "")</td><td>\(d.decision)</td></tr>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Reviewed report: \(escape(sample.name))</title>
            <style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}
            .big{font-size:1.3em}@media print{a{color:inherit;text-decoration:none}}</style></head><body>
            <h1>Reviewed report: \(escape(sample.name))</h1>
            <p>smear \(smearVersion), model \(escape(analysis.model)), threshold \(analysis.threshold). Sample created \(escape(sample.createdAt)).</p>
            <p class="big"><b>Reviewed parasitemia:</b> \(figure(s.reviewed))</p>
            <p><b>Automatic parasitemia:</b> \(figure(s.automatic))</p>
            <p>\(s.cellsReviewed) calls reviewed, \(s.callsChanged) changed.</p>
            <p><b>Signed off:</b> \(s.signedOffBy.map { escape($0) + " at " + escape(s.signedOffAt ?? "") } ?? "not yet (draft)")</p>
            <h2>Decisions</h2>
            <table><tr><th>time (UTC)</th><th>reviewer</th><th>field</th><th>cell</th><th>machine</th><th>p</th><th>decision</th></tr>
            \(rows)
            </table>
            </body></html>

            """
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
