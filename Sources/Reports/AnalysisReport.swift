import Foundation
import Pipeline
import Segmentation

/// The machine-readable result of `smear analyze` (`report.json`); `cells.csv` holds the same cells.
public struct AnalysisReport: Codable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "smear"
        public var version: String
    }
    public struct Image: Codable, Sendable {
        public var file: String
        public var width: Int
        public var height: Int
        public var cellsCounted: Int
        /// Objects shown but not counted, by reason (`border`, `leukocyte`, `debris`).
        public var excluded: [String: Int]
        /// Typical red-cell diameter in pixels, and whether it was estimated from the image.
        public var cellDiameter: Double
        public var cellDiameterEstimated: Bool
        /// Path of the overlay, relative to the output folder.
        public var overlay: String?
        public var seconds: Double
    }
    public struct Failure: Codable, Sendable {
        public var file: String
        public var error: String
        public init(file: String, error: String) {
            self.file = file
            self.error = error
        }
    }
    public struct Cell: Codable, Sendable {
        public var image: String
        public var id: Int
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        public var centroidX: Double
        public var centroidY: Double
        public var area: Int
        public var status: String
        /// Classifier output: `parasitized` / `uninfected`, null when no classifier ran.
        public var `class`: String?
        public var pParasitized: Double?

        enum CodingKeys: String, CodingKey {
            case image, id, x, y, width, height, centroidX, centroidY, area, status, `class`, pParasitized
        }

        /// Writes every key; `class` and `p_parasitized` as null when no classifier ran (the synthesized
        /// encoder would leave them out).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(image, forKey: .image)
            try c.encode(id, forKey: .id)
            try c.encode(x, forKey: .x)
            try c.encode(y, forKey: .y)
            try c.encode(width, forKey: .width)
            try c.encode(height, forKey: .height)
            try c.encode(centroidX, forKey: .centroidX)
            try c.encode(centroidY, forKey: .centroidY)
            try c.encode(area, forKey: .area)
            try c.encode(status, forKey: .status)
            try c.encode(`class`, forKey: .class)
            try c.encode(pParasitized, forKey: .pParasitized)
        }
    }
    public struct Totals: Codable, Sendable {
        public var images: Int
        public var failed: Int
        public var cellsCounted: Int
        public var excluded: [String: Int]
    }

    public var tool: Tool
    public var images: [Image]
    public var failures: [Failure]
    public var cells: [Cell]
    public var totals: Totals

    /// Builds the report from analysed fields (in input order) and failures.
    /// `overlays` maps a field's path to its overlay's relative path.
    public init(version: String, fields: [FieldAnalysis], failures: [Failure], overlays: [String: String]) {
        tool = Tool(version: version)
        self.failures = failures
        images = fields.map { f in
            Image(file: f.path, width: f.width, height: f.height, cellsCounted: f.segmentation.count(.counted),
                  excluded: Self.excludedCounts(f.segmentation), cellDiameter: (f.segmentation.cellDiameter * 10).rounded() / 10,
                  cellDiameterEstimated: f.segmentation.diameterEstimated, overlay: overlays[f.path],
                  seconds: (f.seconds * 1000).rounded() / 1000)
        }
        cells = fields.flatMap { f in
            f.segmentation.objects.map { o in
                Cell(image: f.path, id: o.id, x: o.x, y: o.y, width: o.width, height: o.height,
                     centroidX: (o.centroidX * 10).rounded() / 10, centroidY: (o.centroidY * 10).rounded() / 10,
                     area: o.area, status: o.status.rawValue, class: nil, pParasitized: nil)
            }
        }
        var excluded: [String: Int] = [:]
        for image in images { excluded.merge(image.excluded, uniquingKeysWith: +) }
        totals = Totals(images: fields.count + failures.count, failed: failures.count,
                        cellsCounted: images.reduce(0) { $0 + $1.cellsCounted }, excluded: excluded)
    }

    static func excludedCounts(_ s: SegmentationResult) -> [String: Int] {
        var out: [String: Int] = [:]
        for status in ObjectStatus.allCases where status != .counted { out[status.rawValue] = s.count(status) }
        return out
    }

    /// Pretty-printed JSON with snake_case keys, keys sorted, a final newline.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// `cells.csv`: a header and one line per cell, the same columns as `cells` in the JSON.
    public func csv() -> String {
        var lines = [CSVTable.line(["image", "id", "x", "y", "width", "height", "centroid_x", "centroid_y", "area",
                                    "status", "class", "p_parasitized"])]
        for c in cells {
            lines.append(CSVTable.line([c.image, String(c.id), String(c.x), String(c.y), String(c.width), String(c.height),
                                        String(c.centroidX), String(c.centroidY), String(c.area), c.status,
                                        c.class ?? "", c.pParasitized.map { String(format: "%.4f", $0) } ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
