import Foundation
import Segmentation

/// Agreement of a slide analysed in tiles (`AnalysisRun`) with expert annotations in slide
/// coordinates, by the rules of `FieldValidation`, each applied where its data is:
/// - **Matching.** Each tile gives the pairs the rules allow between its own counted detections (those
///   whose centroid lies in its core) and every annotation that meets the region it read: box IoU
///   ≥ 0.3, or a point inside the detection's mask, tested on the tile's masks. When the run is over,
///   the pairs of all tiles are matched one-to-one, best first, as in a field; so an annotation whose
///   centre lies in one tile's core and whose cell's centroid lies in the next is matched all the same.
/// - **Which annotations count.** An annotation counts when the tile whose core holds its centre was
///   counted (a tile not fit for counting is left out whole, as a field that fails quality control)
///   and it does not touch the edge of its frame: the slide, or for a slide made of fields (`mosaic`,
///   `MosaicField`) the field it lies in, as it would in that field alone (boxes: within half a pixel;
///   points: within the frame's typical cell radius). Cells cut by a field's edge are border cells on
///   the slide too: the segmenter finds stitching seams.
/// - **Figures** are those of `FieldValidation`, given per mosaic field holding an annotation (the
///   field's detections: the counted cells whose centroid lies in it), or for the whole slide without
///   a mosaic. The cell radius of a frame is the median equivalent radius of its counted cells.
///
/// Memory: a few words per counted cell and per pair (about 10 MB for 180,000 cells), the annotations
/// and a grid index of them. Safe to receive tiles from several threads at once.
public final class SlideValidation: @unchecked Sendable {
    /// What became of one annotation.
    public enum Outcome: Sendable, Equatable {
        /// Matched with the counted cell of this id (red cells), or with a leukocyte detection.
        case matched(detection: Int)
        /// Counted by the figures, matched with nothing.
        case missed
        /// Left out of the figures, for this reason ("field edge", "slide edge", "tile not counted",
        /// "outside the fields", "platelet").
        case ignored(String)
    }

    /// A counted cell of a counted tile, in slide pixels.
    public struct Detection: Sendable, Equatable {
        public var id: Int
        /// Index of the tile that owns it.
        public var tile: Int
        /// Bounding box.
        public var x: Int, y: Int, width: Int, height: Int
        public var centroidX: Double, centroidY: Double
        public var area: Int
        /// The classifier's call (nil without a classifier).
        public var call: CellCall?
    }

    /// The outcome of a slide.
    public struct Result: Sendable {
        /// The slide's file name.
        public var slide: String
        /// One per frame holding an annotation: per mosaic field, named `SLIDE#FIELD` (` (2)`, … for
        /// a field placed again), or one named after the slide without a mosaic. Annotation indices in
        /// `pairs` and `considered` are those of `annotations`; detection ids are the slide's cell ids.
        public var fields: [FieldValidation]
        /// The slide's annotations, in file order, with what became of each.
        public var annotations: [Annotation]
        public var outcomes: [Outcome]
        /// The name of the row of the frame that holds each annotation's centre and each cell's centroid
        /// (nil: none).
        public var annotationFrames: [String?]
        /// Every counted cell of the counted tiles, by id, and the frame it counts in.
        public var detections: [Detection]
        public var detectionFrames: [String?]
        /// The annotation index each matched counted cell is paired with, by cell id.
        public var matchedDetections: [Int: Int]
        public var tilesAnalysed: Int
        public var tilesCounted: Int
    }

    public let slide: String
    let annotations: [Annotation]
    let mosaic: [MosaicField]
    /// The red-cell and leukocyte annotations, by their boxes (points: size 0).
    let index: SpatialIndex
    private let lock = NSLock()
    private var detections: [Detection] = []
    private var cellCandidates: [MatchCandidate] = []
    private var leukocyteCandidates: [MatchCandidate] = []

    /// Validation of the slide named `slide` (its file name) against its `annotations`, in slide
    /// pixels; `mosaic`: where its fields lie, when it is made of fields (empty: it is not).
    public init(slide: String, annotations: [Annotation], mosaic: [MosaicField] = []) {
        self.slide = slide
        self.annotations = annotations
        self.mosaic = mosaic
        var index = SpatialIndex(cell: 256)
        for (i, a) in annotations.enumerated() where a.isRedCell || a.kind == .leukocyte {
            index.insert(i, x: a.x, y: a.y, width: a.width ?? 0, height: a.height ?? 0)
        }
        self.index = index
    }

    /// Takes in one analysed tile: its counted cells and the pairs they may form with the annotations
    /// that meet the region it read. A tile not fit for counting gives nothing. Cost: O(annotations
    /// near the tile × its objects).
    public func add(_ tile: AnalysedTile) {
        guard tile.unfit == nil else { return }
        let read = tile.tile.read
        let objects = tile.field.segmentation.objects
        let counted = objects.filter { $0.status == .counted }
        let nearby = index.items(x: Double(read.x), y: Double(read.y), width: Double(read.width), height: Double(read.height))
        let origin = (x: read.x, y: read.y)
        let cells = FieldValidation.candidates(nearby.filter { annotations[$0].isRedCell }, annotations, counted, origin: origin)
        let leukocytes = FieldValidation.candidates(nearby.filter { annotations[$0].kind == .leukocyte }, annotations,
                                                    objects.filter { $0.status == .leukocyte }, origin: origin)
        let records = counted.map { d in
            Detection(id: d.id, tile: tile.tile.index, x: d.x + read.x, y: d.y + read.y, width: d.width, height: d.height,
                      centroidX: d.centroidX + Double(read.x), centroidY: d.centroidY + Double(read.y), area: d.area,
                      call: tile.field.calls[d.id])
        }
        lock.withLock {
            detections += records
            cellCandidates += cells
            leukocyteCandidates += leukocytes
        }
    }

    /// The figures, once every tile of the run `count` is in: decides which annotations count, matches
    /// them one-to-one and tallies each frame. Cost: sorting the pairs, and O(annotations + cells).
    public func finish(_ count: SlideCount) -> Result {
        finish(grid: count.plan.grid, countedTiles: Set(count.tiles.filter { $0.unfit == nil }.map(\.tile.index)),
               tilesAnalysed: count.tiles.count, diameter: count.plan.diameter)
    }

    /// `finish` from the run's parts: the slide's tile `grid`, the indices of the tiles counted, how
    /// many tiles were analysed, and the slide-wide cell `diameter`.
    func finish(grid: TileGrid, countedTiles: Set<Int>, tilesAnalysed: Int, diameter: Double) -> Result {
        let (unordered, cellCandidates, leukocyteCandidates) = lock.withLock { (self.detections, self.cellCandidates, self.leukocyteCandidates) }
        let detections = unordered.sorted { $0.id < $1.id }
        let frames = self.frames(width: grid.width, height: grid.height)
        var frameIndex = SpatialIndex(cell: 1024)
        for (i, f) in frames.enumerated() {
            frameIndex.insert(i, x: Double(f.rect.x), y: Double(f.rect.y), width: Double(f.rect.width - 1), height: Double(f.rect.height - 1))
        }
        func frame(_ x: Double, _ y: Double) -> Int? {
            frameIndex.items(x: x, y: y, width: 0, height: 0).first { frames[$0].rect.contains(x, y) }
        }

        let detectionFrame = detections.map { frame($0.centroidX, $0.centroidY) }
        var inFrame = [[Detection]](repeating: [], count: frames.count)
        for (d, f) in zip(detections, detectionFrame) { if let f { inFrame[f].append(d) } }
        let radii = inFrame.map { FieldValidation.typicalRadius(areas: $0.map(\.area), diameter: diameter) }

        // Which annotations count: those of red cells and leukocytes inside their frame (the one that
        // holds their centre) in a counted tile.
        var outcomes = [Outcome](repeating: .missed, count: annotations.count)
        let annotationFrame = annotations.map { frame($0.center.x, $0.center.y) }
        var cells = [[Int]](repeating: [], count: frames.count), wbc = cells
        var holding = [Bool](repeating: false, count: frames.count)
        for (i, a) in annotations.enumerated() {
            let centre = a.center
            guard let f = annotationFrame[i] else { outcomes[i] = .ignored("outside the \(mosaic.isEmpty ? "slide" : "fields")"); continue }
            holding[f] = true
            guard a.isRedCell || a.kind == .leukocyte else { outcomes[i] = .ignored(a.kind.rawValue); continue }
            guard FieldValidation.isInterior(a, in: frames[f].rect, radius: radii[f]) else {
                outcomes[i] = .ignored(mosaic.isEmpty ? "slide edge" : "field edge"); continue
            }
            guard let tile = grid.owner(centre.x, centre.y), countedTiles.contains(tile) else { outcomes[i] = .ignored("tile not counted"); continue }
            if a.isRedCell { cells[f].append(i) } else { wbc[f].append(i) }
        }

        // One-to-one matching over the whole slide, of the annotations that count.
        let consideredCells = Set(cells.joined()), consideredLeukocytes = Set(wbc.joined())
        let pairs = FieldValidation.resolve(cellCandidates.filter { consideredCells.contains($0.annotation) })
        let identified = FieldValidation.resolve(leukocyteCandidates.filter { consideredLeukocytes.contains($0.annotation) })
        for pair in pairs + identified { outcomes[pair.annotation] = .matched(detection: pair.detection) }

        // Leukocytes covered by a counted cell are not excluded from the count.
        var centroids = SpatialIndex(cell: 256)
        for (i, d) in detections.enumerated() { centroids.insert(i, x: d.centroidX, y: d.centroidY, width: 0, height: 0) }
        func excluded(_ i: Int, radius: Double) -> Bool {
            let a = annotations[i]
            let reach = a.isBox ? (a.width!, a.height!) : (radius, radius)
            let near = centroids.items(x: a.center.x - reach.0, y: a.center.y - reach.1, width: 2 * reach.0, height: 2 * reach.1)
            return !near.contains { FieldValidation.covers(a, x: detections[$0].centroidX, y: detections[$0].centroidY, radius: radius) }
        }

        var pairsIn = [[MatchedPair]](repeating: [], count: frames.count), identifiedIn = pairsIn
        for pair in pairs { pairsIn[annotationFrame[pair.annotation]!].append(pair) }
        for pair in identified { identifiedIn[annotationFrame[pair.annotation]!].append(pair) }
        var rows: [FieldValidation] = []
        var frameRow = [String?](repeating: nil, count: frames.count)
        for f in frames.indices where holding[f] {
            var calls: [Int: CellCall] = [:]
            for d in inFrame[f] { if let call = d.call { calls[d.id] = call } }
            rows.append(FieldValidation(
                image: frames[f].name, annotations: annotations, cells: cells[f], leukocytes: wbc[f], pairs: pairsIn[f],
                counted: inFrame[f].map(\.id), calls: calls, leukocytesIdentified: identifiedIn[f].count,
                leukocytesExcluded: wbc[f].filter { excluded($0, radius: radii[f]) }.count))
            frameRow[f] = frames[f].name
        }
        return Result(slide: slide, fields: rows, annotations: annotations, outcomes: outcomes,
                      annotationFrames: annotationFrame.map { $0.flatMap { frameRow[$0] } },
                      detections: detections, detectionFrames: detectionFrame.map { $0.flatMap { frameRow[$0] } },
                      matchedDetections: Dictionary(pairs.map { ($0.detection, $0.annotation) }, uniquingKeysWith: { first, _ in first }),
                      tilesAnalysed: tilesAnalysed, tilesCounted: countedTiles.count)
    }

    /// The frames annotations are judged in, with their rows' names: the mosaic's fields, or the slide.
    func frames(width: Int, height: Int) -> [(name: String, rect: TileGrid.Rect)] {
        guard !mosaic.isEmpty else { return [(slide, TileGrid.Rect(x: 0, y: 0, width: width, height: height))] }
        var seen: [String: Int] = [:]
        return mosaic.map { f in
            seen[f.field, default: 0] += 1
            let n = seen[f.field]!
            return ("\(slide)#\(f.field)" + (n > 1 ? " (\(n))" : ""), f.rect)
        }
    }
}
