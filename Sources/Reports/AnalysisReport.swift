import Classifier
import Foundation
import Pipeline
import Segmentation

/// The version of smear, as reports and `--version` give it.
public let smearVersion = "0.1.0"

/// The machine-readable result of `smear analyze` (`report.json`); `cells.csv` holds the same cells.
/// Fields that have no value (no classifier ran, no cells) are written as `null`, never left out
/// (`NullEncoded`). Every figure comes from the run (`AnalysisResult`, `Tally`); the report only
/// rounds and arranges them.
public struct AnalysisReport: Encodable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "smear"
        public var version: String
    }
    /// How the numbers were made.
    public struct Settings: Encodable, Sendable {
        /// The classifier model (file or "bundled: …"), null when classification was off.
        @NullEncoded public var model: String?
        /// Probability at or above which a cell is called parasitized.
        @NullEncoded public var threshold: Double?
        /// The red-cell diameter given with --cell-diameter (null: estimated per image).
        @NullEncoded public var cellDiameter: Double?
        /// Red cells to count per sample (null: every field given).
        @NullEncoded public var targetCells: Int?
        /// Red cells per µL used for parasites/µL.
        public var redCellsPerMicrolitre: Double
        /// Test-time symmetries a doubtful cell's probability is averaged over (`CellClassifier.probabilities`;
        /// null when classification was off).
        @NullEncoded public var symmetries: Int?
        /// The model's cross-validated operating point when this run used it (the same threshold and
        /// symmetries); then every parasitemia has an `adjusted_…` twin corrected for the classifier's
        /// errors. Null otherwise.
        @NullEncoded public var operatingPoint: OperatingPoint?

        public init(model: String?, threshold: Double?, cellDiameter: Double?, targetCells: Int?, redCellsPerMicrolitre: Double,
                    symmetries: Int? = nil, operatingPoint: OperatingPoint? = nil) {
            self.model = model
            self.threshold = threshold
            self.symmetries = symmetries
            self.operatingPoint = operatingPoint
            self.cellDiameter = cellDiameter
            self.targetCells = targetCells
            self.redCellsPerMicrolitre = redCellsPerMicrolitre
        }
    }
    public struct Image: Encodable, Sendable {
        public var file: String
        @NullEncoded public var sample: String?
        public var width: Int
        public var height: Int
        public var cellsCounted: Int
        /// Counted cells called parasitized (null without a classifier).
        @NullEncoded public var parasitized: Int?
        @NullEncoded public var parasitemiaPercent: Double?
        /// Objects shown but not counted, by reason (`border`, `leukocyte`, `debris`).
        public var excluded: [String: Int]
        /// Typical red-cell diameter in pixels, and whether it was estimated from the image.
        public var cellDiameter: Double
        public var cellDiameterEstimated: Bool
        /// Path of the overlay, relative to the output folder.
        @NullEncoded public var overlay: String?
        public var seconds: Double
        /// The plausibility measures (README.md, "Quality control").
        public var quality: FieldQuality
    }
    /// One patient's slide: the pooled count over its fields.
    public struct Sample: Encodable, Sendable {
        public var name: String
        public var images: [String]
        public var fieldsUsed: Int
        public var fieldsAvailable: Int
        @NullEncoded public var targetCells: Int?
        public var targetReached: Bool
        public var cellsCounted: Int
        @NullEncoded public var parasitized: Int?
        @NullEncoded public var parasitemiaPercent: Double?
        /// Wilson 95% interval of the parasitemia, in percent.
        @NullEncoded public var parasitemiaCi95Percent: [Double]?
        /// The parasitemia and its interval corrected for the classifier's errors (`Tally.adjusted`;
        /// null without `Settings.operatingPoint`).
        @NullEncoded public var adjustedParasitemiaPercent: Double?
        @NullEncoded public var adjustedParasitemiaCi95Percent: [Double]?
        @NullEncoded public var parasitesPerMicrolitre: Double?
        @NullEncoded public var parasitesPerMicrolitreCi95: [Double]?
    }
    /// An input that was not counted: it could not be read or segmented, or it failed quality control
    /// (then with its overlay and measures, so that a person can see why).
    public struct Failure: Encodable, Sendable {
        public var file: String
        /// One line naming the file and the reason.
        public var error: String
        /// The overlay of a field that failed quality control (path relative to the output folder).
        @NullEncoded public var overlay: String?
        /// The measures of a field that failed quality control.
        @NullEncoded public var quality: FieldQuality?

        public init(file: String, error: String, overlay: String? = nil, quality: FieldQuality? = nil) {
            self.file = file
            self.error = error
            self.overlay = overlay
            self.quality = quality
        }
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
        @NullEncoded public var `class`: String?
        @NullEncoded public var pParasitized: Double?
    }
    public struct Totals: Encodable, Sendable {
        public var images: Int
        public var failed: Int
        public var cellsCounted: Int
        @NullEncoded public var parasitized: Int?
        @NullEncoded public var parasitemiaPercent: Double?
        @NullEncoded public var parasitemiaCi95Percent: [Double]?
        @NullEncoded public var adjustedParasitemiaPercent: Double?
        @NullEncoded public var adjustedParasitemiaCi95Percent: [Double]?
        public var excluded: [String: Int]
    }

    /// One slide, analysed in tiles: the count over its tiles fit for counting, and the tile table.
    /// Its cells are in cells.csv and the slide's GeoJSON, not in `cells` (a slide can hold millions).
    public struct Slide: Encodable, Sendable {
        public struct Tile: Encodable, Sendable {
            public var index: Int, column: Int, row: Int
            /// The tile's core in slide pixels (its cells are those whose centroid lies in it).
            public var x: Int, y: Int, width: Int, height: Int
            public var counted: Bool
            /// Why it is not counted (null when counted).
            @NullEncoded public var reason: String?
            public var cellsCounted: Int
            @NullEncoded public var parasitized: Int?
            public var seconds: Double
        }
        public var name: String
        public var file: String
        public var width: Int, height: Int
        /// Micrometres per pixel (mean of x and y) from the file; null when it does not say.
        @NullEncoded public var micronsPerPixel: Double?
        public var cellDiameter: Double
        /// `given`, `estimated` or `pixel size` (SlidePlan).
        public var cellDiameterSource: String
        /// 7.5 µm in pixels from the pixel size (null without one).
        @NullEncoded public var cellDiameterFromPixelSize: Double?
        /// The green absorbance every tile splits cells from glass at (`SlidePlan.foregroundThreshold`).
        public var foregroundThreshold: Double
        public var tileSize: Int, tileMargin: Int
        public var tilesTotal: Int, tilesAnalysed: Int, tilesCounted: Int
        /// Tiles whose analysis was taken from an interrupted run (`--resume`).
        public var tilesResumed: Int
        /// Tiles analysed but not counted, by reason.
        public var tilesNotCounted: [String: Int]
        @NullEncoded public var targetCells: Int?
        public var targetReached: Bool
        public var cellsCounted: Int
        @NullEncoded public var parasitized: Int?
        @NullEncoded public var parasitemiaPercent: Double?
        @NullEncoded public var parasitemiaCi95Percent: [Double]?
        @NullEncoded public var adjustedParasitemiaPercent: Double?
        @NullEncoded public var adjustedParasitemiaCi95Percent: [Double]?
        @NullEncoded public var parasitesPerMicrolitre: Double?
        @NullEncoded public var parasitesPerMicrolitreCi95: [Double]?
        /// Area of the counted tiles' cores, in pixels and (with a pixel size) in mm².
        public var countedAreaPixels: Int
        @NullEncoded public var countedAreaMm2: Double?
        /// The quality map and the QuPath GeoJSON of its cells (paths relative to the output folder).
        @NullEncoded public var qualityMap: String?
        @NullEncoded public var geojson: String?
        /// The overlay, a pyramidal tiled BigTIFF at the slide's resolution, and the folder of its
        /// tiles for the report's viewer (`LEVEL/COLUMN_ROW.jpg`), relative to the output folder.
        @NullEncoded public var overlay: String?
        @NullEncoded public var viewer: String?
        public var tiles: [Tile]
    }

    /// What the totals were counted in: "3 fields", "1 slide", "2 fields and 1 slide".
    public var countedIn: String {
        func some(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        switch (images.count, slides.count) {
        case (let f, 0): return some(f, "field")
        case (0, let s): return some(s, "slide")
        case (let f, let s): return some(f, "field") + " and " + some(s, "slide")
        }
    }

    /// The files written for one slide, relative to the output folder.
    public struct SlideFiles: Sendable {
        public var qualityMap: String
        public var geojson: String
        public var overlay: String
        public var viewer: String

        public init(qualityMap: String, geojson: String, overlay: String, viewer: String) {
            self.qualityMap = qualityMap
            self.geojson = geojson
            self.overlay = overlay
            self.viewer = viewer
        }
    }

    public var tool: Tool
    public var settings: Settings
    public var images: [Image]
    /// One entry per slide (whole-slide images and other images too large for one field).
    public var slides: [Slide]
    /// One entry per sample (with --sample or --samples-root); empty for a plain batch of fields.
    public var samples: [Sample]
    public var failures: [Failure]
    public var cells: [Cell]
    public var totals: Totals

    /// Arranges `result` (a plain batch is one sample with an empty name). `overlays` maps a field's
    /// path to its overlay's relative path; `classified` says whether a classifier ran (without one,
    /// the parasitized counts and figures are null); `slideFiles` gives each slide's files, by path.
    public init(version: String, settings: Settings, result: AnalysisResult, overlays: [String: String], classified: Bool,
                slideFiles: [String: SlideFiles] = [:]) {
        tool = Tool(version: version)
        self.settings = settings
        func percent(_ fraction: Double?) -> Double? { classified ? fraction.map { rounded(100 * $0, 3) } : nil }
        func percent(_ interval: (lower: Double, upper: Double)?) -> [Double]? {
            classified ? interval.map { [rounded(100 * $0.lower, 3), rounded(100 * $0.upper, 3)] } : nil
        }
        let adjusted = { (t: Tally) in classified ? settings.operatingPoint.flatMap { t.adjusted(by: $0) } : nil }
        failures = result.failures.map { f in
            Failure(file: f.path, error: f.message, overlay: f.rejected.flatMap { overlays[$0.path] }, quality: f.rejected?.quality)
        }
        images = result.samples.flatMap { s in
            s.fields.map { f in
                Image(file: f.path, sample: s.name.isEmpty ? nil : s.name, width: f.width, height: f.height,
                      cellsCounted: f.cellsCounted, parasitized: classified ? f.parasitized : nil,
                      parasitemiaPercent: percent(f.tally.parasitemia), excluded: Self.excludedCounts(f.segmentation),
                      cellDiameter: rounded(f.segmentation.cellDiameter, 1), cellDiameterEstimated: f.segmentation.diameterEstimated,
                      overlay: overlays[f.path], seconds: rounded(f.seconds, 3), quality: f.quality)
            }
        }
        samples = result.samples.filter { !$0.name.isEmpty }.map { s in
            let t = s.tally, perMicrolitre = s.parasitesPerMicrolitre
            return Sample(name: s.name, images: s.fields.map(\.path), fieldsUsed: s.fields.count, fieldsAvailable: s.fieldsAvailable,
                          targetCells: s.targetCells, targetReached: s.targetReached, cellsCounted: t.counted,
                          parasitized: classified ? t.parasitized : nil, parasitemiaPercent: percent(t.parasitemia),
                          parasitemiaCi95Percent: percent(t.interval),
                          adjustedParasitemiaPercent: percent(adjusted(t)?.value),
                          adjustedParasitemiaCi95Percent: percent(adjusted(t).map { ($0.lower, $0.upper) }),
                          parasitesPerMicrolitre: classified ? perMicrolitre.map { $0.value.rounded() } : nil,
                          parasitesPerMicrolitreCi95: classified ? perMicrolitre.map { [$0.lower.rounded(), $0.upper.rounded()] } : nil)
        }
        slides = result.slides.map { s in
            let t = s.tally, perMicrolitre = s.parasitesPerMicrolitre
            var reasons: [String: Int] = [:]
            for tile in s.tiles { if let reason = tile.unfit { reasons[Self.reasonKind(reason), default: 0] += 1 } }
            return Slide(name: s.name, file: s.path, width: s.width, height: s.height,
                         micronsPerPixel: s.micronsPerPixel.map { rounded(($0.x + $0.y) / 2, 5) },
                         cellDiameter: rounded(s.plan.diameter, 1), cellDiameterSource: s.plan.diameterSource,
                         cellDiameterFromPixelSize: s.plan.expectedDiameter.map { rounded($0, 1) },
                         foregroundThreshold: rounded(s.plan.foregroundThreshold, 3),
                         tileSize: s.plan.grid.coreSize, tileMargin: s.plan.grid.margin, tilesTotal: s.plan.grid.count,
                         tilesAnalysed: s.tiles.count, tilesCounted: s.tiles.filter { $0.unfit == nil }.count, tilesResumed: s.resumedTiles,
                         tilesNotCounted: reasons,
                         targetCells: s.targetCells, targetReached: s.targetReached, cellsCounted: t.counted,
                         parasitized: classified ? t.parasitized : nil, parasitemiaPercent: percent(t.parasitemia),
                         parasitemiaCi95Percent: percent(t.interval),
                         adjustedParasitemiaPercent: percent(adjusted(t)?.value),
                         adjustedParasitemiaCi95Percent: percent(adjusted(t).map { ($0.lower, $0.upper) }),
                         parasitesPerMicrolitre: classified ? perMicrolitre.map { $0.value.rounded() } : nil,
                         parasitesPerMicrolitreCi95: classified ? perMicrolitre.map { [$0.lower.rounded(), $0.upper.rounded()] } : nil,
                         countedAreaPixels: s.countedPixels, countedAreaMm2: s.countedSquareMillimetres.map { rounded($0, 4) },
                         qualityMap: slideFiles[s.path]?.qualityMap, geojson: slideFiles[s.path]?.geojson,
                         overlay: slideFiles[s.path]?.overlay, viewer: slideFiles[s.path]?.viewer,
                         tiles: s.tiles.map { tile in
                             Slide.Tile(index: tile.tile.index, column: tile.tile.column, row: tile.tile.row, x: tile.tile.core.x,
                                        y: tile.tile.core.y, width: tile.tile.core.width, height: tile.tile.core.height,
                                        counted: tile.unfit == nil, reason: tile.unfit, cellsCounted: tile.tally.counted,
                                        parasitized: classified ? tile.tally.parasitized : nil, seconds: rounded(tile.seconds, 3))
                         })
        }
        cells = result.fields.flatMap { f in f.segmentation.objects.map { Self.cell($0, call: f.calls[$0.id], image: f.path) } }
        var excluded: [String: Int] = [:]
        for image in images { excluded.merge(image.excluded, uniquingKeysWith: +) }
        let t = result.totals
        totals = Totals(images: images.count + failures.count, failed: failures.count, cellsCounted: t.counted,
                        parasitized: classified ? t.parasitized : nil, parasitemiaPercent: percent(t.parasitemia),
                        parasitemiaCi95Percent: percent(t.interval), adjustedParasitemiaPercent: percent(adjusted(t)?.value),
                        adjustedParasitemiaCi95Percent: percent(adjusted(t).map { ($0.lower, $0.upper) }), excluded: excluded)
    }

    /// The kind of a tile's reason for `tilesNotCounted`: the reason up to its first parenthesis or
    /// colon ("unreadable: …" → "unreadable", "sparse (feathered edge)" stays whole).
    static func reasonKind(_ reason: String) -> String {
        if reason.hasPrefix("unreadable") { return "unreadable" }
        if let colon = reason.firstIndex(of: ":"), !reason.hasPrefix("sparse"), !reason.hasPrefix("thick"), !reason.hasPrefix("background") {
            return String(reason[..<colon])
        }
        return reason
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

    /// `cells.csv`: a header and one line per object of the fields, the same columns as `cells` in the
    /// JSON (empty where the JSON has null). (`ReportFolder` also streams each slide's cells into it.)
    public func csv() -> String {
        ([Self.csvHeader] + cells.map(Self.csvLine)).joined(separator: "\n") + "\n"
    }

    public static let csvHeader = CSVTable.line(["image", "id", "x", "y", "width", "height", "centroid_x", "centroid_y", "area",
                                                 "status", "class", "p_parasitized"])

    /// One line of cells.csv (no line end).
    public static func csvLine(_ c: Cell) -> String {
        CSVTable.line([c.image, String(c.id), String(c.x), String(c.y), String(c.width), String(c.height),
                       String(c.centroidX), String(c.centroidY), String(c.area), c.status,
                       c.class ?? "", c.pParasitized.map { String(format: "%.4f", $0) } ?? ""])
    }

    /// The report's line for `object` of a field or tile whose region starts at (`originX`, `originY`)
    /// of the image called `image`.
    public static func cell(_ o: DetectedObject, call: CellCall?, image: String, originX: Int = 0, originY: Int = 0) -> Cell {
        Cell(image: image, id: o.id, x: originX + o.x, y: originY + o.y, width: o.width, height: o.height,
             centroidX: rounded(Double(originX) + o.centroidX, 1), centroidY: rounded(Double(originY) + o.centroidY, 1), area: o.area,
             status: o.status.rawValue, class: call.map { $0.parasitized ? "parasitized" : "uninfected" },
             pParasitized: call.map { rounded($0.pParasitized, 4) })
    }
}

/// `value` rounded to `digits` decimals (for readable JSON).
func rounded(_ value: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
}
