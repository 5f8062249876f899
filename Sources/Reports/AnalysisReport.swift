import Foundation
import Pipeline
import Segmentation

/// The machine-readable result of `smear analyze` (`report.json`); `cells.csv` holds the same cells.
/// Fields that have no value (no classifier ran, no cells) are written as `null`, never left out.
public struct AnalysisReport: Encodable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "smear"
        public var version: String
    }
    /// How the numbers were made.
    public struct Settings: Encodable, Sendable {
        /// The classifier model (file or "bundled: …"), null when classification was off.
        public var model: String?
        /// Probability at or above which a cell is called parasitized.
        public var threshold: Double?
        /// The red-cell diameter given with --cell-diameter (null: estimated per image).
        public var cellDiameter: Double?
        /// Red cells to count per sample (null: every field given).
        public var targetCells: Int?
        /// Red cells per µL used for parasites/µL.
        public var redCellsPerMicrolitre: Double

        public init(model: String?, threshold: Double?, cellDiameter: Double?, targetCells: Int?, redCellsPerMicrolitre: Double) {
            self.model = model
            self.threshold = threshold
            self.cellDiameter = cellDiameter
            self.targetCells = targetCells
            self.redCellsPerMicrolitre = redCellsPerMicrolitre
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(cellDiameter, forKey: .cellDiameter)
            try c.encode(targetCells, forKey: .targetCells)
            try c.encode(redCellsPerMicrolitre, forKey: .redCellsPerMicrolitre)
        }
        enum CodingKeys: CodingKey { case model, threshold, cellDiameter, targetCells, redCellsPerMicrolitre }
    }
    public struct Image: Encodable, Sendable {
        public var file: String
        public var sample: String?
        public var width: Int
        public var height: Int
        public var cellsCounted: Int
        /// Counted cells called parasitized (null without a classifier).
        public var parasitized: Int?
        public var parasitemiaPercent: Double?
        /// Objects shown but not counted, by reason (`border`, `leukocyte`, `debris`).
        public var excluded: [String: Int]
        /// Typical red-cell diameter in pixels, and whether it was estimated from the image.
        public var cellDiameter: Double
        public var cellDiameterEstimated: Bool
        /// Path of the overlay, relative to the output folder.
        public var overlay: String?
        public var seconds: Double
        /// The plausibility measures (README.md, "Quality control").
        public var quality: FieldQuality

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(sample, forKey: .sample)
            try c.encode(width, forKey: .width)
            try c.encode(height, forKey: .height)
            try c.encode(cellsCounted, forKey: .cellsCounted)
            try c.encode(parasitized, forKey: .parasitized)
            try c.encode(parasitemiaPercent, forKey: .parasitemiaPercent)
            try c.encode(excluded, forKey: .excluded)
            try c.encode(cellDiameter, forKey: .cellDiameter)
            try c.encode(cellDiameterEstimated, forKey: .cellDiameterEstimated)
            try c.encode(overlay, forKey: .overlay)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(quality, forKey: .quality)
        }
        enum CodingKeys: CodingKey {
            case file, sample, width, height, cellsCounted, parasitized, parasitemiaPercent, excluded, cellDiameter,
                 cellDiameterEstimated, overlay, seconds, quality
        }
    }
    /// One patient's slide: the pooled count over its fields.
    public struct Sample: Encodable, Sendable {
        public var name: String
        public var images: [String]
        public var fieldsUsed: Int
        public var fieldsAvailable: Int
        public var targetCells: Int?
        public var targetReached: Bool
        public var cellsCounted: Int
        public var parasitized: Int?
        public var parasitemiaPercent: Double?
        /// Wilson 95% interval of the parasitemia, in percent.
        public var parasitemiaCi95Percent: [Double]?
        public var parasitesPerMicrolitre: Double?
        public var parasitesPerMicrolitreCi95: [Double]?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(images, forKey: .images)
            try c.encode(fieldsUsed, forKey: .fieldsUsed)
            try c.encode(fieldsAvailable, forKey: .fieldsAvailable)
            try c.encode(targetCells, forKey: .targetCells)
            try c.encode(targetReached, forKey: .targetReached)
            try c.encode(cellsCounted, forKey: .cellsCounted)
            try c.encode(parasitized, forKey: .parasitized)
            try c.encode(parasitemiaPercent, forKey: .parasitemiaPercent)
            try c.encode(parasitemiaCi95Percent, forKey: .parasitemiaCi95Percent)
            try c.encode(parasitesPerMicrolitre, forKey: .parasitesPerMicrolitre)
            try c.encode(parasitesPerMicrolitreCi95, forKey: .parasitesPerMicrolitreCi95)
        }
        enum CodingKeys: CodingKey {
            case name, images, fieldsUsed, fieldsAvailable, targetCells, targetReached, cellsCounted, parasitized,
                 parasitemiaPercent, parasitemiaCi95Percent, parasitesPerMicrolitre, parasitesPerMicrolitreCi95
        }
    }
    /// An input that was not counted: it could not be read or segmented, or it failed quality control
    /// (then with its overlay and measures, so that a person can see why).
    public struct Failure: Encodable, Sendable {
        public var file: String
        /// One line naming the file and the reason.
        public var error: String
        /// The overlay of a field that failed quality control (path relative to the output folder).
        public var overlay: String?
        /// The measures of a field that failed quality control.
        public var quality: FieldQuality?

        public init(file: String, error: String, overlay: String? = nil, quality: FieldQuality? = nil) {
            self.file = file
            self.error = error
            self.overlay = overlay
            self.quality = quality
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(error, forKey: .error)
            try c.encode(overlay, forKey: .overlay)
            try c.encode(quality, forKey: .quality)
        }
        enum CodingKeys: CodingKey { case file, error, overlay, quality }
    }
    public struct Cell: Encodable, Sendable {
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
        /// Classifier output for counted cells: `parasitized` / `uninfected`; null otherwise.
        public var `class`: String?
        public var pParasitized: Double?

        public func encode(to encoder: Encoder) throws {
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
        enum CodingKeys: CodingKey { case image, id, x, y, width, height, centroidX, centroidY, area, status, `class`, pParasitized }
    }
    public struct Totals: Encodable, Sendable {
        public var images: Int
        public var failed: Int
        public var cellsCounted: Int
        public var parasitized: Int?
        public var parasitemiaPercent: Double?
        public var parasitemiaCi95Percent: [Double]?
        public var excluded: [String: Int]

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(images, forKey: .images)
            try c.encode(failed, forKey: .failed)
            try c.encode(cellsCounted, forKey: .cellsCounted)
            try c.encode(parasitized, forKey: .parasitized)
            try c.encode(parasitemiaPercent, forKey: .parasitemiaPercent)
            try c.encode(parasitemiaCi95Percent, forKey: .parasitemiaCi95Percent)
            try c.encode(excluded, forKey: .excluded)
        }
        enum CodingKeys: CodingKey { case images, failed, cellsCounted, parasitized, parasitemiaPercent, parasitemiaCi95Percent, excluded }
    }

    public var tool: Tool
    public var settings: Settings
    public var images: [Image]
    /// One entry per sample (with --sample or --samples-root); empty for a plain batch of fields.
    public var samples: [Sample]
    public var failures: [Failure]
    public var cells: [Cell]
    public var totals: Totals

    /// Builds the report from samples (a plain batch is one sample with an empty name) and failures.
    /// `overlays` maps a field's path to its overlay's relative path.
    public init(version: String, settings: Settings, samples: [SampleCount], failures: [Failure],
                overlays: [String: String], classified: Bool) {
        tool = Tool(version: version)
        self.settings = settings
        self.failures = failures
        let named = samples.filter { !$0.name.isEmpty }
        images = samples.flatMap { s in
            s.fields.map { f in
                Image(file: f.path, sample: s.name.isEmpty ? nil : s.name, width: f.width, height: f.height,
                      cellsCounted: f.cellsCounted, parasitized: classified ? f.parasitized : nil,
                      parasitemiaPercent: classified && f.cellsCounted > 0 ? rounded(100 * Double(f.parasitized) / Double(f.cellsCounted), 3) : nil,
                      excluded: Self.excludedCounts(f.segmentation), cellDiameter: rounded(f.segmentation.cellDiameter, 1),
                      cellDiameterEstimated: f.segmentation.diameterEstimated, overlay: overlays[f.path],
                      seconds: rounded(f.seconds, 3), quality: f.quality)
            }
        }
        self.samples = named.map { s in
            Sample(name: s.name, images: s.fields.map(\.path), fieldsUsed: s.fields.count, fieldsAvailable: s.fieldsAvailable,
                   targetCells: s.targetCells, targetReached: s.targetReached, cellsCounted: s.cellsCounted,
                   parasitized: classified ? s.parasitized : nil,
                   parasitemiaPercent: classified ? s.parasitemia.map { rounded(100 * $0, 3) } : nil,
                   parasitemiaCi95Percent: classified ? s.interval.map { [rounded(100 * $0.lower, 3), rounded(100 * $0.upper, 3)] } : nil,
                   parasitesPerMicrolitre: classified ? s.parasitesPerMicrolitre.map { $0.rounded() } : nil,
                   parasitesPerMicrolitreCi95: classified ? s.interval.map { [($0.lower * s.redCellsPerMicrolitre).rounded(),
                                                                              ($0.upper * s.redCellsPerMicrolitre).rounded()] } : nil)
        }
        cells = samples.flatMap(\.fields).flatMap { f in
            f.segmentation.objects.map { o in
                let call = f.calls[o.id]
                return Cell(image: f.path, id: o.id, x: o.x, y: o.y, width: o.width, height: o.height,
                            centroidX: rounded(o.centroidX, 1), centroidY: rounded(o.centroidY, 1), area: o.area,
                            status: o.status.rawValue, class: call.map { $0.parasitized ? "parasitized" : "uninfected" },
                            pParasitized: call.map { rounded($0.pParasitized, 4) })
            }
        }
        var excluded: [String: Int] = [:]
        for image in images { excluded.merge(image.excluded, uniquingKeysWith: +) }
        let counted = images.reduce(0) { $0 + $1.cellsCounted }
        let parasitized = samples.reduce(0) { $0 + $1.parasitized }
        let interval = wilsonInterval(successes: parasitized, trials: counted)
        totals = Totals(images: images.count + failures.count, failed: failures.count, cellsCounted: counted,
                        parasitized: classified ? parasitized : nil,
                        parasitemiaPercent: classified && counted > 0 ? rounded(100 * Double(parasitized) / Double(counted), 3) : nil,
                        parasitemiaCi95Percent: classified ? interval.map { [rounded(100 * $0.lower, 3), rounded(100 * $0.upper, 3)] } : nil,
                        excluded: excluded)
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

    /// `cells.csv`: a header and one line per object, the same columns as `cells` in the JSON
    /// (empty where the JSON has null).
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

/// `value` rounded to `digits` decimals (for readable JSON).
func rounded(_ value: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
}
