import Foundation
import Pipeline

/// What `smear validate` prints and writes: per-field and overall agreement with the annotations.
public struct ValidationReport: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var image: String
        public var annotated: Int
        public var detected: Int
        public var matched: Int
        public var recall: Double?
        public var precision: Double?
        public var countRatio: Double?
        public var leukocytesAnnotated: Int
        public var leukocytesExcluded: Int
        public var leukocytesIdentified: Int
    }
    public struct Overall: Codable, Sendable {
        public var images: Int
        public var annotated: Int
        public var detected: Int
        public var matched: Int
        public var recall: Double?
        public var precision: Double?
        public var countRatio: Double?
        /// Count ratio over fields with at least `denseThreshold` annotated cells (fields labelled
        /// completely enough for a count to mean something).
        public var denseThreshold: Int
        public var denseImages: Int
        public var denseCountRatio: Double?
        public var leukocytesAnnotated: Int
        public var leukocyteExclusionRate: Double?
        public var leukocyteIdentificationRate: Double?
    }
    public var tool: AnalysisReport.Tool
    public var rules: String
    public var images: [Row]
    public var failures: [AnalysisReport.Failure]
    public var overall: Overall

    public init(version: String, summary: ValidationSummary, failures: [AnalysisReport.Failure]) {
        tool = AnalysisReport.Tool(version: version)
        rules = "Annotations touching the image border (points: closer than one cell radius) and detections marked border are ignored. "
            + "Red cells are matched one-to-one with counted detections: boxes by box IoU >= 0.3 (highest first), points to the nearest detection whose mask contains them. "
            + "Leukocytes are excluded when no counted detection has its centroid in the middle half of the annotation, identified when matched to a leukocyte detection. "
            + "Precision is a lower bound where fields are not fully annotated."
        images = summary.fields.map { f in
            Row(image: f.image, annotated: f.annotated, detected: f.detected, matched: f.matched, recall: f.recall,
                precision: f.precision, countRatio: f.countRatio, leukocytesAnnotated: f.leukocytesAnnotated,
                leukocytesExcluded: f.leukocytesExcluded, leukocytesIdentified: f.leukocytesIdentified)
        }
        self.failures = failures
        overall = Overall(images: summary.fields.count, annotated: summary.annotated, detected: summary.detected,
                          matched: summary.matched, recall: summary.recall, precision: summary.precision,
                          countRatio: summary.countRatio, denseThreshold: summary.denseThreshold,
                          denseImages: summary.denseFields, denseCountRatio: summary.denseCountRatio,
                          leukocytesAnnotated: summary.leukocytesAnnotated,
                          leukocyteExclusionRate: summary.leukocyteExclusionRate,
                          leukocyteIdentificationRate: summary.leukocyteIdentificationRate)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// One line per image, then an `OVERALL` line.
    public func csv() -> String {
        var lines = [CSVTable.line(["image", "annotated", "detected", "matched", "recall", "precision", "count_ratio",
                                    "leukocytes_annotated", "leukocytes_excluded", "leukocytes_identified"])]
        for r in images {
            lines.append(CSVTable.line([r.image, String(r.annotated), String(r.detected), String(r.matched),
                                        fixed(r.recall), fixed(r.precision), fixed(r.countRatio),
                                        String(r.leukocytesAnnotated), String(r.leukocytesExcluded), String(r.leukocytesIdentified)]))
        }
        let o = overall
        lines.append(CSVTable.line(["OVERALL", String(o.annotated), String(o.detected), String(o.matched), fixed(o.recall),
                                    fixed(o.precision), fixed(o.countRatio), String(o.leukocytesAnnotated),
                                    o.leukocytesAnnotated > 0 ? String(images.reduce(0) { $0 + $1.leukocytesExcluded }) : "0",
                                    o.leukocytesAnnotated > 0 ? String(images.reduce(0) { $0 + $1.leukocytesIdentified }) : "0"]))
        return lines.joined(separator: "\n") + "\n"
    }

    /// A human-readable table: one row per image (when `perImage`), then the overall figures.
    public func text(perImage: Bool) -> String {
        var out = ""
        let nameWidth = max(5, min(40, images.map(\.image.count).max() ?? 5))
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : (left ? s + String(repeating: " ", count: n - s.count) : String(repeating: " ", count: n - s.count) + s)
        }
        let header = pad("image", nameWidth, left: true) + pad("annotated", 11) + pad("detected", 10) + pad("matched", 9)
            + pad("recall", 8) + pad("precision", 11) + pad("ratio", 7)
        if perImage {
            out += header + "\n"
            for r in images {
                out += pad(r.image, nameWidth, left: true) + pad(String(r.annotated), 11) + pad(String(r.detected), 10)
                    + pad(String(r.matched), 9) + pad(fixed(r.recall), 8) + pad(fixed(r.precision), 11) + pad(fixed(r.countRatio), 7) + "\n"
            }
            out += "\n"
        }
        let o = overall
        out += "images \(o.images), annotated cells \(o.annotated), detected \(o.detected), matched \(o.matched)\n"
        out += "recall \(fixed(o.recall)), precision \(fixed(o.precision)) (a lower bound where not every cell is annotated), count ratio detected/annotated \(fixed(o.countRatio))\n"
        out += "count ratio on the \(o.denseImages) fields with >= \(o.denseThreshold) annotated cells: \(fixed(o.denseCountRatio))\n"
        if o.leukocytesAnnotated > 0 {
            out += "leukocytes annotated \(o.leukocytesAnnotated): excluded from the count \(percent(o.leukocyteExclusionRate)), identified as leukocytes \(percent(o.leukocyteIdentificationRate))\n"
        }
        if !failures.isEmpty { out += "\(failures.count) image(s) failed\n" }
        return out
    }
}

func fixed(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
