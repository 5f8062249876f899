import Dispatch
import Foundation
import ImageCodecs
import Segmentation
import Slides

/// How a slide is cut into tiles and judged, slide-wide (the issue's "slide-wide settings come from
/// the whole slide, not each tile on its own"): the typical cell diameter, the tile grid, and the
/// analyzer every tile shares. Local adaptation stays inside each tile (the absorbance background).
public struct SlidePlan: Sendable {
    public var diameter: Double
    /// Where `diameter` came from: "given", "estimated" (median over regions sampled across the
    /// slide) or "pixel size" (7.5 µm over the slide's µm/px, when no region gave an estimate).
    public var diameterSource: String
    /// 7.5 µm in pixels, from the slide's pixel size (nil without one): reported beside the diameter
    /// used, so that a slide whose metadata and cells disagree can be seen.
    public var expectedDiameter: Double?
    /// The green-absorbance level every tile splits cells from glass at (`SegmentationParameters.foregroundThreshold`):
    /// the median of the segmenter's own thresholds on the regions sampled across the slide, so that a
    /// tile full of cells and one half glass draw outlines alike. The background under it stays local.
    public var foregroundThreshold: Double
    public var grid: TileGrid

    /// A red cell's typical diameter, for the cell size in pixels from a slide's pixel size.
    public static let redCellMicrons = 7.5

    /// Plans `slide`: the diameter given, else the median of the diameters estimated on up to nine
    /// 1,280-px regions spread over it (as for a field), checked against the slide's pixel size where
    /// it has one (7.5 µm across; `expectedDiameter`) and replaced by it when no region gives an
    /// estimate; cores of 16 diameters (at least 512 px, a multiple of 256 for the overlay's tiles and of
    /// the slide's own tile width when one divides the other) read with a margin of 1.2 diameters, more than a cell's reach from a centroid in the
    /// core; the foreground threshold, the given one or the median of the segmenter's thresholds on the
    /// same regions. Cost: two reads and segmentations of the nine regions (one with a given diameter).
    public static func plan(_ slide: Slide, given: Double?, segmenter: CellSegmenter) throws(PipelineError) -> SlidePlan {
        let expected = slide.micronsPerPixel.map { redCellMicrons / (($0.x + $0.y) / 2) }
        var diameter: Double, source: String
        if let given {
            (diameter, source) = (given, "given")
        } else if let estimate = median(sampledRegions(slide) { (try? segmenter.segment($0))?.cellDiameter }) {
            (diameter, source) = (estimate, "estimated")
        } else if let expected {
            (diameter, source) = (expected, "pixel size")
        } else {
            throw PipelineError("\(slide.name): no red blood cells found in regions sampled across the slide (is this a thin blood smear?)")
        }
        guard diameter >= 4, diameter <= 2000 else {
            throw PipelineError("\(slide.name): implausible cell size (\(Int(diameter)) px across, \(source))")
        }
        let tileWidth = slide.levels[0].tileWidth ?? 1
        var core = max(512, Int(16 * diameter))
        let unit = tileWidth % 256 == 0 || 256 % tileWidth == 0 ? max(tileWidth, 256) : 256
        core = (core + unit - 1) / unit * unit
        let grid = TileGrid(width: slide.width, height: slide.height, coreSize: core, margin: Int((1.2 * diameter).rounded(.up)),
                            alignment: segmenter.workingFactor(diameter: diameter))
        var threshold = segmenter.parameters.foregroundThreshold
            ?? median(sampledRegions(slide) { segmenter.foregroundThreshold(of: $0, diameter: diameter) })
        if threshold == nil { threshold = segmenter.foregroundThreshold(of: try region(slide), diameter: diameter) }
        return SlidePlan(diameter: diameter, diameterSource: source, expectedDiameter: expected, foregroundThreshold: threshold!, grid: grid)
    }

    /// `measure` of up to nine regions, 1,280 px across or less, at the centres of the cells of a 3 × 3
    /// division of the slide (regions that cannot be read or give nil are left out).
    static func sampledRegions(_ slide: Slide, _ measure: (RGBImage) -> Double?) -> [Double] {
        let side = min(1280, slide.width, slide.height)
        let probe = TileGrid(width: slide.width, height: slide.height, coreSize: max(side, (max(slide.width, slide.height) + 2) / 3), margin: 0)
        return probe.tiles.compactMap { tile in
            let core = tile.core, w = min(side, core.width), h = min(side, core.height)
            guard w >= 16, h >= 16,
                  let image = try? slide.region(x: core.x + (core.width - w) / 2, y: core.y + (core.height - h) / 2, width: w, height: h)
            else { return nil }
            return measure(image)
        }
    }

    /// The slide's top-left region of at most 1,280 px, as a last resort for the threshold.
    static func region(_ slide: Slide) throws(PipelineError) -> RGBImage {
        do throws(ImageError) {
            return try slide.region(x: 0, y: 0, width: min(1280, slide.width), height: min(1280, slide.height))
        } catch {
            throw PipelineError(error.description)
        }
    }

    static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.sorted()[values.count / 2]
    }
}

/// Whether a tile is fit for counting: the monolayer, not glass, the thick part, the feathered edge
/// or an out-of-focus patch. Returns the reason a tile is not fit, or nil. The rules, on the tile's
/// quality-control measures (`FieldQuality`, the same as for fields):
/// - a tile that fails quality control is not fit, for that reason;
/// - "background (no cells)": no counted cell;
/// - "sparse (feathered edge)": objects cover less than 10% of the tile (the fields of the shared
///   sets: 7–81%, 1st percentile 14–17%);
/// - "thick (cells overlap)": objects cover more than 75% of it;
/// - "out of focus": outline contrast under 2.0 (sharp fields: 1.8–5.9, 1st percentile 2.0–2.3).
public func tileUnfitReason(_ quality: FieldQuality) -> String? {
    if let problem = quality.problem { return problem.hasPrefix("no red blood cells counted") ? "background (no cells)" : problem }
    if quality.coverage < 0.10 { return "sparse (feathered edge)" }
    if quality.coverage > 0.75 { return "thick (cells overlap)" }
    if let contrast = quality.outlineContrast, contrast < 2.0 { return "out of focus" }
    return nil
}

/// One tile of a slide as analysed: its cells (those whose centroid lies in the tile's core, ids
/// numbered across the slide), in the coordinates of the region read (`tile.read`), with that region's
/// pixels for overlays, and whether it counts.
public struct AnalysedTile: Sendable {
    /// The slide's sample name and path.
    public var sample: String
    public var slide: String
    public var tile: TileGrid.Tile
    public var field: FieldAnalysis
    public var image: RGBImage
    public var heatmaps: [Int: [Float]]
    /// Why the tile is not counted; nil when it counts.
    public var unfit: String?
}

/// A tile's line in the slide's tile table.
public struct TileSummary: Sendable {
    public var tile: TileGrid.Tile
    public var tally: Tally
    /// Why the tile is not counted (nil: counted).
    public var unfit: String?
    public var seconds: Double
}

/// The count of one slide: its tiles, those counted and why the others are not, and the figures.
public struct SlideCount: Sendable {
    public var name: String
    public var path: String
    public var width: Int, height: Int
    public var micronsPerPixel: (x: Double, y: Double)?
    public var plan: SlidePlan
    /// Tiles analysed, in the order analysed (spread over the slide when counting to a target).
    public var tiles: [TileSummary]
    public var targetCells: Int?
    public var redCellsPerMicrolitre: Double
    /// Tiles whose analysis was taken from an interrupted run (`TileCheckpoints`), not made again.
    public var resumedTiles: Int = 0

    /// The counted tiles' cells pooled.
    public var tally: Tally { Tally.sum(tiles.filter { $0.unfit == nil }.map(\.tally)) }
    public var targetReached: Bool { targetCells.map { tally.counted >= $0 } ?? true }
    public var parasitesPerMicrolitre: (value: Double, lower: Double, upper: Double)? { tally.perMicrolitre(redCellsPerMicrolitre) }
    /// Area of the counted tiles' cores, in level-0 pixels, and in mm² when the pixel size is known.
    public var countedPixels: Int { tiles.filter { $0.unfit == nil }.reduce(0) { $0 + $1.tile.core.width * $1.tile.core.height } }
    public var countedSquareMillimetres: Double? { micronsPerPixel.map { Double(countedPixels) * $0.x * $0.y / 1e6 } }
}

extension AnalysisRun {
    /// Analyses the slide at `path` tile by tile (`SlidePlan`, `TileGrid`): in reading order, or spread
    /// over the slide until `target` counted cells. Every tile is sent as `.tileAnalysed`; its cells
    /// whose centroid lies in its core are its own, so none is counted twice or lost on a seam. A tile
    /// that cannot be read is not counted ("unreadable: …") and the slide is also reported as a
    /// failure, so the run's exit status says so. With `checkpoints`, each tile's analysis is kept as it
    /// is made and, resuming, taken from there instead of made again (`TileCheckpoints`); the tiles'
    /// pixels are read again for the outputs. Memory: the tiles of one wave (one to four a thread).
    func analyseSlide(_ slide: Slide, sample: Sample, send: @Sendable (AnalysisEvent) throws -> Void) throws -> (SlideCount, FieldFailure?) {
        let plan = try SlidePlan.plan(slide, given: analyzer.segmenter.parameters.cellDiameter, segmenter: analyzer.segmenter)
        var slideWide = analyzer
        slideWide.segmenter.parameters.cellDiameter = plan.diameter
        slideWide.segmenter.parameters.foregroundThreshold = plan.foregroundThreshold
        let tileAnalyzer = slideWide
        let tiles = plan.grid.tiles
        let kept: TileCheckpoints? = try checkpoints.map { c throws(PipelineError) in
            let stem = String(slide.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(100))
            return try TileCheckpoints(folder: "\(c.folder)/\(stem)", resume: c.resume, settings: """
                \(c.settings)
                slide \(slide.path) \(slide.width)x\(slide.height)
                cell diameter \(plan.diameter), foreground threshold \(plan.foregroundThreshold), tiles \(plan.grid.coreSize)+\(plan.grid.margin)
                """)
        }
        let order = sample.target == nil ? Array(tiles.indices) : TileGrid.spread(tiles)
        var summaries: [TileSummary] = []
        var unreadable: [String] = []
        var counted = 0, nextID = 1, next = 0, resumed = 0
        // Tiles are analysed in waves, all threads on one wave, then sent; counting to a target, a wave
        // is one tile a thread, so that few tiles are analysed past the target; otherwise four, so
        // that threads seldom wait at the end of a wave for the slowest tile.
        let wave = max(1, threads) * (sample.target == nil ? 4 : 1)
        let runner = self
        while next < order.count && (sample.target.map { counted < $0 } ?? true) {
            let slice = order[next..<min(order.count, next + wave)].map { tiles[$0] }
            next += slice.count
            let results = parallelMap(count: slice.count, threads: threads) { i -> Result<(FieldAnalysis, RGBImage, Bool), PipelineError> in
                let tile = slice[i], start = DispatchTime.now()
                do throws(PipelineError) {
                    let image: RGBImage
                    do throws(ImageError) {
                        image = try slide.region(x: tile.read.x, y: tile.read.y, width: tile.read.width, height: tile.read.height)
                    } catch {
                        throw PipelineError(error.description)
                    }
                    let path = "\(slide.path)#tile-\(tile.index)"
                    if let done = kept?.load(tile: tile.index, path: path) { return .success((done, image, true)) }
                    let field = owned(try tileAnalyzer.analyze(image, path: path, since: start), tile: tile)
                    kept?.save(field, tile: tile.index)
                    return .success((field, image, false))
                } catch { return .failure(error) }
            }
            var analysed: [AnalysedTile] = []
            for (tile, result) in zip(slice, results) {
                if let target = sample.target, counted >= target { break }
                switch result {
                case .success(let (field, image, wasKept)):
                    if wasKept { resumed += 1 }
                    let renumbered = field.renumbered(from: nextID)
                    nextID += renumbered.segmentation.objects.count
                    let unfit = tileUnfitReason(renumbered.quality)
                    if unfit == nil { counted += renumbered.cellsCounted }
                    analysed.append(AnalysedTile(sample: sample.name, slide: slide.path, tile: tile, field: renumbered, image: image,
                                                 heatmaps: unfit == nil ? runner.heatmaps(renumbered, image: image) : [:], unfit: unfit))
                    summaries.append(TileSummary(tile: tile, tally: renumbered.tally, unfit: unfit, seconds: renumbered.seconds))
                case .failure(let error):
                    unreadable.append(error.description)
                    summaries.append(TileSummary(tile: tile, tally: Tally(), unfit: "unreadable: \(error.description)", seconds: 0))
                }
                try send(.progress(done: summaries.count, total: order.count, item: slide.name))
            }
            let sent = analysed
            let outcomes = parallelMap(count: sent.count, threads: threads) { i -> (any Error)? in
                do { try send(.tileAnalysed(sent[i])); return nil } catch { return error }
            }
            if let error = outcomes.compactMap({ $0 }).first { throw error }
        }
        let count = SlideCount(name: sample.name, path: slide.path, width: slide.width, height: slide.height,
                               micronsPerPixel: slide.micronsPerPixel, plan: plan, tiles: summaries, targetCells: sample.target,
                               redCellsPerMicrolitre: redCellsPerMicrolitre, resumedTiles: resumed)
        let failure = unreadable.isEmpty ? nil
            : FieldFailure(path: slide.path, message: "\(slide.name): \(unreadable.count) tile(s) could not be read and were not counted (first: \(unreadable[0]))")
        return (count, failure)
    }

    /// The tile's analysis with only the objects whose centroid lies in its core (in slide
    /// coordinates), so that each cell belongs to one tile; its quality measures stay those of the
    /// whole region read.
    func owned(_ field: FieldAnalysis, tile: TileGrid.Tile) -> FieldAnalysis {
        var kept = field
        kept.segmentation.objects = field.segmentation.objects.filter {
            tile.core.contains(Double(tile.read.x) + $0.centroidX, Double(tile.read.y) + $0.centroidY)
        }
        let ids = Set(kept.segmentation.objects.map(\.id))
        kept.calls = field.calls.filter { ids.contains($0.key) }
        return kept  // `quality` stays that of the whole region read: it judges the tile, not its core alone
    }
}

extension FieldAnalysis {
    /// The analysis with its objects numbered `first`, `first + 1`, … in their order (calls follow).
    func renumbered(from first: Int) -> FieldAnalysis {
        var copy = self
        var calls: [Int: CellCall] = [:]
        for i in copy.segmentation.objects.indices {
            let old = copy.segmentation.objects[i].id, new = first + i
            copy.segmentation.objects[i].id = new
            if let call = self.calls[old] { calls[new] = call }
        }
        copy.calls = calls
        return copy
    }
}
