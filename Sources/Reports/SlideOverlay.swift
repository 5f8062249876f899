import Dispatch
import Foundation
import ImageCodecs
import Pipeline
import Segmentation
import Slides

/// The overlay of one slide, built as its tiles are analysed: a pyramidal tiled BigTIFF at full
/// resolution (`slides/NAME/overlay.tiff`, level 0 pixel for pixel on the slide, so it lines up with
/// the slide and its GeoJSON) and the same JPEG tiles as files for the report's viewer
/// (`slides/NAME/viewer/LEVEL/COLUMN_ROW.jpg`, `SlideViewer`).
///
/// **What it shows.** The slide with every object drawn as on a field's overlay (`Overlay`: counted
/// cells outlined green, parasitized ones bold red with their probability and Grad-CAM tint if made,
/// excluded objects dotted, ids at the centroids). A tile that was analysed but not counted is tinted
/// 40% towards its quality-map colour (`SlideOutputs.color(of:)`) and says "NOT COUNTED: reason" in its
/// top-left corner; a tile never analysed (the count reached its target first) is flat light grey,
/// "NOT ANALYSED" (not read from the slide); a tile that could not be read is flat black.
///
/// **Tiles.** The TIFF's tiles line up with the analysis tiles: each core (`TileGrid`, `coreSize` a
/// multiple of 64) is `bands` TIFF tiles of `coreSize × coreSize/4`, and levels 1, 2… (up to 3) have
/// tiles of half the size each, so that one band of one core gives its tile at each of those levels
/// from the same pixels, encoded in the thread that analysed the tile; `PyramidTIFFWriter.Builder`
/// makes the smaller levels at the end from level 3 (1/64 of the pixels).
///
/// **Seams.** A cell belongs to the tile whose core holds its centroid, but its outline can reach into
/// the neighbouring core (at most the tile's margin). What a tile draws beyond its core is kept for
/// the neighbour it falls in, and a band is encoded only once every neighbour that can draw into it
/// has been analysed (or, at the end, never will be): the band at the top of a core waits for the
/// row above, the one at the bottom for the row below, every band for the tiles left and right. So
/// outlines run across seams whatever order tiles come in. Waiting bands are kept in memory up to
/// `heldLimit` bytes of pixels; beyond that the oldest are kept as JPEGs of quality 95 (about a tenth
/// of the size) until their neighbours come. In reading order a row of bottom bands waits (1.8 MB per
/// core of 1,536 px: 33 MB for a slide 28,000 px wide), so memory grows with the slide's width up to
/// that limit, not with its area; out of order (a count to a target, spread over the slide) bands may
/// wait to the end, as JPEGs past the limit.
///
/// Cost: per tile, one copy of the region read, the drawing, one comparison of its margin with the
/// region read, and one JPEG encode per band per level (1.33 encodes of the core's pixels); at the
/// end, the bands still waiting encoded, tiles never analysed written as one flat JPEG per level
/// (no read of the slide), and the smallest levels made. Measured on a 0.41-gigapixel slide of IML fields (README): see there.
/// Thread-safe: `add` is called from the threads that analyse tiles.
final class SlideOverlay: @unchecked Sendable {
    /// JPEG quality of the tiles.
    static let quality = 80
    /// TIFF tiles (bands) per core, top to bottom.
    static let bands = 4
    /// Bytes of waiting bands kept as pixels, at most.
    static let heldLimit = 128 << 20
    /// How far a tile that is not counted is tinted towards its reason's colour, in 256ths.
    static let tintWeight = 102

    let slide: Slide
    let folder: OutputFolder
    /// `slides/NAME`, the slide's folder in the output folder.
    let base: String
    /// Side of a core, height of a band, and the grid of cores.
    let core: Int, band: Int, columns: Int, rows: Int
    /// Scale of outlines and labels (as on a 1280 × 960 field for 82-px cells: 2).
    let scale: Int
    let builder: PyramidTIFFWriter.Builder

    /// Marks drawn on a rectangle: positions `y · stride + x` and their colours (3 bytes each).
    struct Marks {
        var positions: [UInt32] = []
        var colours: [UInt8] = []
        mutating func append(_ position: Int, _ pixels: UnsafeBufferPointer<UInt8>, at i: Int) {
            positions.append(UInt32(position))
            colours.append(pixels[i]); colours.append(pixels[i + 1]); colours.append(pixels[i + 2])
        }
    }

    /// A band drawn, waiting for neighbours: its pixels, or once dropped to keep memory within
    /// `heldLimit`, the same compressed as a JPEG of quality `keptQuality`.
    struct Waiting {
        var pixels: RGBImage?
        var kept: [UInt8]?
    }

    /// JPEG quality of waiting bands dropped from memory (one more compression of those few bands).
    static let keptQuality = 95

    private let lock = NSLock()
    private var arrived: [Bool]
    /// Whether each band (core index · `bands` + band) has been encoded.
    private var encoded: [Bool]
    private var waiting: [Int: Waiting] = [:]
    /// What tiles drew into other cores, by the core they fall in: (drawing tile, marks in core
    /// coordinates, stride `core`).
    private var spills: [Int: [(from: Int, marks: Marks)]] = [:]
    /// Bands whose pixels are held, oldest first, and their bytes.
    private var held: [Int] = []
    private var heldBytes = 0
    /// `flatTile`'s JPEGs, by level, width and height.
    private var flatTiles: [[Int]: [UInt8]] = [:]
    private let flatLock = NSLock()

    /// The overlay of the slide whose first tile analysed is `tile`, into `base/overlay.tiff` and
    /// `base/viewer/` of `folder`.
    convenience init(first tile: AnalysedTile, folder: OutputFolder, base: String) throws {
        let slide = try Self.open(tile.slide, folder: folder, base: base)
        try self.init(slide: slide, coreSize: Self.coreSize(of: tile.tile, width: slide.width, height: slide.height),
                      diameter: tile.field.segmentation.cellDiameter, folder: folder, base: base)
    }

    /// The overlay of a slide none of whose tiles was analysed (`count` gives its grid).
    convenience init(count: SlideCount, folder: OutputFolder, base: String) throws {
        try self.init(slide: try Self.open(count.path, folder: folder, base: base), coreSize: count.plan.grid.coreSize,
                      diameter: count.plan.diameter, folder: folder, base: base)
    }

    static func open(_ path: String, folder: OutputFolder, base: String) throws -> Slide {
        do throws(ImageError) { return try Slide(path: path) } catch {
            throw OutputError("\(folder.path)/\(base)/overlay.tiff: cannot read the slide: \(error)")
        }
    }

    /// The overlay of `slide` analysed on a grid of `coreSize` cores (a multiple of 64) with cells of
    /// `diameter` px, into `base/overlay.tiff` and `base/viewer/` of `folder`.
    private init(slide: Slide, coreSize: Int, diameter: Double, folder: OutputFolder, base: String) throws {
        precondition(coreSize > 0 && coreSize % 64 == 0, "overlay tiles need cores in multiples of 64 px (\(coreSize))")
        self.slide = slide
        self.folder = folder
        self.base = base
        core = coreSize
        band = coreSize / Self.bands
        columns = (slide.width + core - 1) / core
        rows = (slide.height + core - 1) / core
        scale = max(1, Int(diameter / 40))
        arrived = [Bool](repeating: false, count: columns * rows)
        encoded = [Bool](repeating: false, count: columns * rows * Self.bands)
        var levels = 1
        while levels < 4 && (band >> levels) % 16 == 0 { levels += 1 }
        let path = try folder.stagedPath(for: base + "/overlay.tiff")
        do throws(ImageError) {
            builder = try PyramidTIFFWriter.Builder(path: path, width: slide.width, height: slide.height, tileWidth: core,
                                                    tileHeight: band, tileLevels: levels, quality: Self.quality,
                                                    micronsPerPixel: slide.micronsPerPixel.map { ($0.x + $0.y) / 2 })
        } catch {
            throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
        }
    }

    /// The side of the cores of the grid `tile` comes from, for a slide of `width × height`: from its
    /// position, or for the first tile its size (a full core unless the slide fits in one, which then
    /// gets the slide's longer side rounded up to 256).
    static func coreSize(of tile: TileGrid.Tile, width: Int, height: Int) -> Int {
        if tile.column > 0 { return tile.core.x / tile.column }
        if tile.row > 0 { return tile.core.y / tile.row }
        if tile.core.width < width || tile.core.height < height { return max(tile.core.width, tile.core.height) }
        return (max(width, height) + 255) / 256 * 256
    }

    /// Draws `tile` and encodes the bands it completes (its own and its neighbours').
    func add(_ tile: AnalysedTile) throws {
        let drawing = draw(tile)
        let index = tile.tile.row * columns + tile.tile.column
        var work: [(band: Int, waiting: Waiting, spills: [(from: Int, marks: Marks)])] = []
        lock.lock()
        arrived[index] = true
        for (target, marks) in drawing.spills { spills[target, default: []].append((index, marks)) }
        for (j, pixels) in drawing.bands.enumerated() {
            waiting[index * Self.bands + j] = Waiting(pixels: pixels)
            held.append(index * Self.bands + j)
            heldBytes += pixels.pixels.count
        }
        for neighbour in neighbours(of: index) + [index] {
            for j in 0..<Self.bands where waiting[neighbour * Self.bands + j] != nil && isReady(neighbour, band: j) {
                let key = neighbour * Self.bands + j
                let ready = waiting.removeValue(forKey: key)!
                heldBytes -= ready.pixels?.pixels.count ?? 0
                work.append((key, ready, markEncoded(key)))
            }
        }
        try dropOldestPixels()
        lock.unlock()
        for item in work { try encode(band: item.band, waiting: item.waiting, spills: item.spills) }
    }

    /// Encodes every band still to be encoded: those waiting for neighbours that were never analysed,
    /// and the cores never analysed (flat grey; `unreadable` ones flat black), on
    /// `threads` threads; then writes the TIFF. Returns the viewer of the pyramid.
    func finish(unreadable: Set<Int>, threads: Int) throws -> SlideViewer {
        lock.lock()
        var work: [(band: Int, waiting: Waiting?, spills: [(from: Int, marks: Marks)])] = []
        for index in 0..<(columns * rows) {
            for j in 0..<bandCount(of: index) where !encoded[index * Self.bands + j] {
                let key = index * Self.bands + j
                work.append((key, waiting.removeValue(forKey: key), markEncoded(key)))
            }
        }
        held = []
        heldBytes = 0
        lock.unlock()
        let failure = FirstError()
        let next = Counter()
        let all = work
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { _ in
            while failure.error == nil, let i = next.take(below: all.count) {
                // A band not waiting is one of a core never analysed.
                let item = all[i]
                do {
                    try encode(band: item.band, waiting: item.waiting ?? Waiting(), spills: item.spills,
                               unreadable: unreadable.contains(item.band / Self.bands))
                } catch { failure.set(error) }
            }
        }
        if let error = failure.error { throw error }
        let tiles = base + "/viewer"
        do {
            try builder.finish { level, column, row, jpeg in
                try self.folder.write(Data(jpeg), to: "\(tiles)/\(level)/\(column)_\(row).jpg")
            }
        } catch let error as ImageError {
            throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
        }
        return SlideViewer(key: (base as NSString).lastPathComponent, tiff: base + "/overlay.tiff", tiles: tiles, coreSize: core, columns: columns, rows: rows,
                           levels: builder.levels.map { ($0.width, $0.height, $0.tileWidth!, $0.tileHeight!) })
    }

    // MARK: - Which bands wait for what

    /// Bands of core `index` (fewer than `bands` in a last row of cores cut by the slide's edge).
    func bandCount(of index: Int) -> Int {
        let height = min(core, slide.height - index / columns * core)
        return (height + band - 1) / band
    }

    /// The cores around core `index` (up to eight).
    func neighbours(of index: Int) -> [Int] {
        let c = index % columns, r = index / columns
        var out: [Int] = []
        for dr in -1...1 {
            for dc in -1...1 where (dr != 0 || dc != 0) && c + dc >= 0 && c + dc < columns && r + dr >= 0 && r + dr < rows {
                out.append((r + dr) * columns + c + dc)
            }
        }
        return out
    }

    /// Whether band `j` of core `index` has everything drawn into it: its own tile and the tiles that
    /// can draw into it analysed — left and right always, the row above for the top band, the row below
    /// for the bottom one. Call with the lock held.
    private func isReady(_ index: Int, band j: Int) -> Bool {
        guard arrived[index] else { return false }
        let r = index / columns
        return neighbours(of: index).allSatisfy { n in
            let nr = n / columns
            return arrived[n] || (nr == r - 1 && j != 0) || (nr == r + 1 && j != Self.bands - 1)
        }
    }

    /// Marks band `key` encoded and returns the marks other tiles drew into its core (the band picks
    /// its rows), sorted by the drawing tile so that the result does not depend on arrival order; the
    /// core's lists go once its last band is encoded. Call with the lock held.
    private func markEncoded(_ key: Int) -> [(from: Int, marks: Marks)] {
        let index = key / Self.bands
        encoded[key] = true
        let list = (spills[index] ?? []).sorted { $0.from < $1.from }
        if (0..<bandCount(of: index)).allSatisfy({ encoded[index * Self.bands + $0] }) { spills[index] = nil }
        return list
    }

    /// Compresses the oldest waiting bands (JPEG, `keptQuality`) while more than `heldLimit` bytes of
    /// pixels are held. Rare: in reading order a row of bottom bands waits, 1.8 MB per 1,536-px core of
    /// the slide's width. Call with the lock held.
    private func dropOldestPixels() throws {
        // Forget bands encoded since they were held, so that `held` stays short.
        if held.count > 2 * waiting.count + 64 { held.removeAll { waiting[$0]?.pixels == nil } }
        while heldBytes > Self.heldLimit, !held.isEmpty {
            let key = held.removeFirst()
            guard let pixels = waiting[key]?.pixels else { continue }
            do {
                waiting[key]!.kept = try PyramidTIFFWriter.jpegTile(pixels, tileWidth: pixels.width, tileHeight: pixels.height, quality: Self.keptQuality)
            } catch {
                throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
            }
            waiting[key]!.pixels = nil
            heldBytes -= pixels.pixels.count
        }
    }

    // MARK: - Drawing and encoding

    /// `tile`'s drawing: each band of its core as drawn (tinted if not counted, with its objects and
    /// its notice), and what was drawn beyond the core, by the core it falls in (positions relative to
    /// that core, stride `core`). Cost: one copy of the region read, the objects' drawing, one pass over
    /// the region's margin.
    func draw(_ tile: AnalysedTile) -> (bands: [RGBImage], spills: [Int: Marks]) {
        let field = tile.field, read = tile.tile.read, coreRect = tile.tile.core
        let ox = coreRect.x - read.x, oy = coreRect.y - read.y, w = coreRect.width
        var canvas = tile.image
        if let unfit = tile.unfit {
            let table = Self.tintTable(SlideOutputs.color(of: unfit))
            canvas.pixels.withUnsafeMutableBufferPointer { pixels in
                for y in oy..<(oy + coreRect.height) {
                    let row = pixels.baseAddress! + 3 * (y * read.width + ox)
                    Self.tint(row, into: row, count: w, table)
                }
            }
        }
        let calls = field.calls
        for object in field.segmentation.objects {
            if let heat = tile.heatmaps[object.id] { Overlay.tint(object, heat: heat, on: &canvas) }
            switch (object.status, calls[object.id]?.parasitized) {
            case (.counted, true?): Overlay.drawOutline(object, on: &canvas, color: Overlay.parasitizedColor, thickness: 3 * scale)
            case (.counted, _): Overlay.drawOutline(object, on: &canvas, color: Overlay.color(of: .counted), thickness: calls.isEmpty ? scale : 1)
            default: Overlay.drawOutline(object, on: &canvas, color: Overlay.color(of: object.status), thickness: 1, dotted: true)
            }
        }
        for object in field.segmentation.objects { Overlay.drawLabels(of: object, call: calls[object.id], on: &canvas, scale: scale) }
        if let unfit = tile.unfit { drawNotice("NOT COUNTED: " + AnalysisReport.reasonKind(unfit), on: &canvas, x: ox, y: oy) }
        var bands: [RGBImage] = []
        var spills: [Int: Marks] = [:]
        canvas.pixels.withUnsafeBufferPointer { drawn in
            for j in 0..<((coreRect.height + band - 1) / band) {
                let h = min(band, coreRect.height - j * band)
                let pixels = [UInt8](unsafeUninitializedCapacity: 3 * w * h) { out, initialized in
                    for y in 0..<h {
                        (out.baseAddress! + 3 * y * w).update(from: drawn.baseAddress! + 3 * ((oy + j * band + y) * read.width + ox), count: 3 * w)
                    }
                    initialized = 3 * w * h
                }
                bands.append(RGBImage(width: w, height: h, pixels: pixels))
            }
            // Beyond the core (the margin, not tinted): drawn pixels go to the core they fall in.
            tile.image.pixels.withUnsafeBufferPointer { original in
                func spill(y: Int, from x0: Int, to x1: Int) {
                    let py = read.y + y, targetRow = py / core
                    Self.changes(drawn, original, from: 3 * (y * read.width + x0), pixels: x1 - x0) { dx in
                        let px = read.x + x0 + dx
                        spills[targetRow * columns + px / core, default: Marks()]
                            .append((py - targetRow * core) * core + px % core, drawn, at: 3 * (y * read.width + x0 + dx))
                    }
                }
                for y in 0..<read.height {
                    if y >= oy && y < oy + coreRect.height {
                        spill(y: y, from: 0, to: ox)
                        spill(y: y, from: ox + w, to: read.width)
                    } else {
                        spill(y: y, from: 0, to: read.width)
                    }
                }
            }
        }
        return (bands, spills)
    }

    /// Calls `body` with each of `pixels` pixels from byte `start` on that differs between `a` and
    /// `b` (its index from `start`, in order), comparing 8 bytes at a time where nothing changed.
    @inline(__always)
    static func changes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, from start: Int, pixels: Int,
                        _ body: (Int) -> Void) {
        guard pixels > 0 else { return }
        let pa = UnsafeRawPointer(a.baseAddress! + start), pb = UnsafeRawPointer(b.baseAddress! + start)
        let bytes = 3 * pixels
        var i = 0, next = 0   // `next`: the first pixel not yet looked at
        while i < bytes {
            let width = min(8, bytes - i)
            let same = width == 8 ? pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) == pb.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                : memcmp(pa + i, pb + i, width) == 0
            // The pixels these bytes touch, less any a chunk before already looked at (a pixel can
            // straddle two chunks; at the end, a short chunk can lie wholly in one looked at).
            let first = max(next, i / 3), last = (i + width - 1) / 3
            if !same && first <= last {
                for p in first...last where memcmp(pa + 3 * p, pb + 3 * p, 3) != 0 { body(p) }
                next = last + 1
            }
            i += width
        }
    }

    /// Per channel, each value 0–255 tinted `tintWeight`/256 of the way towards `colour`.
    static func tintTable(_ colour: Overlay.Color) -> [[UInt8]] {
        [colour.0, colour.1, colour.2].map { toward in
            (0..<256).map { UInt8((Int($0) * (256 - tintWeight) + Int(toward) * tintWeight) >> 8) }
        }
    }

    /// Copies `count` pixels from `source` to `destination` (which may be the same), each channel
    /// through its table of `tint`.
    @inline(__always)
    static func tint(_ source: UnsafeMutablePointer<UInt8>, into destination: UnsafeMutablePointer<UInt8>, count: Int, _ tint: [[UInt8]]) {
        let (r, g, b) = (tint[0], tint[1], tint[2])
        for p in 0..<count {
            destination[3 * p] = r[Int(source[3 * p])]
            destination[3 * p + 1] = g[Int(source[3 * p + 1])]
            destination[3 * p + 2] = b[Int(source[3 * p + 2])]
        }
    }

    /// `notice` in white on a dark halo, at (`x`, `y`) + a small inset of `image`.
    func drawNotice(_ notice: String, on image: inout RGBImage, x: Int, y: Int) {
        BitmapFont.draw(notice, on: &image, x: x + 4 * scale, y: y + 4 * scale, scale: 2 * scale, color: (255, 255, 255), halo: (0, 0, 0))
    }

    /// Encodes band `key` at every level given to the builder and writes its viewer tiles: as its tile
    /// drew it (`waiting`), or for a core never analysed flat grey with "NOT ANALYSED" (or, `unreadable`,
    /// black); with what its neighbours drew into it on top.
    func encode(band key: Int, waiting: Waiting, spills: [(from: Int, marks: Marks)], unreadable: Bool = false) throws {
        let index = key / Self.bands, j = key % Self.bands
        let c = index % columns, r = index / columns
        let x0 = c * core, y0 = r * core + j * band
        let w = min(core, slide.width - x0), h = min(band, slide.height - y0)
        var image: RGBImage
        if let pixels = waiting.pixels {
            image = pixels
        } else if let kept = waiting.kept {
            do { image = try ImageCodecs.decode(kept, name: "band") } catch {
                throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
            }
        } else if unreadable {
            image = RGBImage(width: w, height: h)
            let table = Self.tintTable(SlideOutputs.color(of: "unreadable"))
            image.pixels.withUnsafeMutableBufferPointer { Self.tint($0.baseAddress!, into: $0.baseAddress!, count: w * h, table) }
            if j == 0 { drawNotice("NOT COUNTED: unreadable", on: &image, x: 0, y: 0) }
        } else {
            // A core never analysed (the count reached its target first): flat grey, not read from the
            // slide, so a count to a target costs no pass over the whole slide. Without outlines of
            // neighbours reaching into it, every such band of a size is the same JPEG, encoded once.
            image = RGBImage(width: w, height: h, fill: SlideOutputs.notAnalysed)
            if j == 0 { drawNotice("NOT ANALYSED", on: &image, x: 0, y: 0) }
            if spills.isEmpty && j != 0 {
                for level in 0..<builder.tileLevels {
                    let jpeg = try flatTile(level: level, width: w, height: h)
                    do { try builder.add(jpeg, level: level, column: c, row: r * Self.bands + j) } catch {
                        throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
                    }
                    try folder.write(Data(jpeg), to: "\(base)/viewer/\(level)/\(c)_\(r * Self.bands + j).jpg")
                }
                return
            }
        }
        for spill in spills { paint(spill.marks, stride: core, rows: (j * band)..<(j * band + h), shift: j * band, on: &image) }
        for level in 0..<builder.tileLevels {
            let tw = core >> level, th = band >> level
            if level > 0 { image = Self.halved(image) }
            let jpeg: [UInt8]
            do { jpeg = try PyramidTIFFWriter.jpegTile(image, tileWidth: tw, tileHeight: th, quality: Self.quality) } catch {
                throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
            }
            do { try builder.add(jpeg, level: level, column: c, row: r * Self.bands + j) } catch {
                throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
            }
            try folder.write(Data(jpeg), to: "\(base)/viewer/\(level)/\(c)_\(r * Self.bands + j).jpg")
        }
    }

    /// The JPEG tile at `level` of a flat grey band `width × height` (at level 0) of a core never
    /// analysed, encoded once per level and size.
    func flatTile(level: Int, width: Int, height: Int) throws -> [UInt8] {
        let key = [level, width, height]
        if let jpeg = flatLock.withLock({ flatTiles[key] }) { return jpeg }
        var image = RGBImage(width: width, height: height, fill: SlideOutputs.notAnalysed)
        for _ in 0..<level { image = Self.halved(image) }
        let jpeg: [UInt8]
        do { jpeg = try PyramidTIFFWriter.jpegTile(image, tileWidth: core >> level, tileHeight: band >> level, quality: Self.quality) } catch {
            throw OutputError("\(folder.path)/\(base)/overlay.tiff: \(error.detail)")
        }
        flatLock.withLock { flatTiles[key] = jpeg }
        return jpeg
    }

    /// `image` halved in each direction, each pixel the rounded mean of its 2×2 block (a block cut by
    /// the edge averages the pixels it has): `boxDownscaled(by: 2)`, several times faster (no division
    /// but at the edges). Cost: one pass over `image`.
    static func halved(_ image: RGBImage) -> RGBImage {
        let w = image.width, h = image.height, ow = (w + 1) / 2, oh = (h + 1) / 2
        let pixels = [UInt8](unsafeUninitializedCapacity: 3 * ow * oh) { out, initialized in
            image.pixels.withUnsafeBufferPointer { source in
                let src = source.baseAddress!, dst = out.baseAddress!
                for oy in 0..<oh {
                    let top = src + 6 * oy * w, full = 2 * oy + 1 < h, bottom = full ? top + 3 * w : top
                    let row = dst + 3 * oy * ow
                    for i in 0..<(3 * (w / 2)) {
                        let k = i / 3 * 6 + i % 3
                        let sum = Int(top[k]) + Int(top[k + 3]) + Int(bottom[k]) + Int(bottom[k + 3])
                        row[i] = UInt8((sum + 2) >> 2)   // a cut last row has bottom = top: the mean of 2
                    }
                    if w % 2 == 1 {   // the last column: blocks of 2 pixels, or 1 at the corner
                        for c in 0..<3 {
                            let a = Int(top[3 * (w - 1) + c]), b = Int(bottom[3 * (w - 1) + c])
                            row[3 * (ow - 1) + c] = UInt8(full ? (a + b + 1) >> 1 : a)
                        }
                    }
                }
            }
            initialized = 3 * ow * oh
        }
        return RGBImage(width: ow, height: oh, pixels: pixels)
    }

    /// Sets the marks whose row (position / `stride`) lies in `rows` on `image`, `shift` rows up.
    func paint(_ marks: Marks, stride: Int, rows: Range<Int>, shift: Int, on image: inout RGBImage) {
        for (k, position) in marks.positions.enumerated() {
            let y = Int(position) / stride, x = Int(position) % stride
            guard rows.contains(y), x < image.width else { continue }
            image[x, y - shift] = (marks.colours[3 * k], marks.colours[3 * k + 1], marks.colours[3 * k + 2])
        }
    }
}

/// The first error recorded from several threads.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (any Error)?
    var error: (any Error)? { lock.withLock { first } }
    func set(_ error: any Error) { lock.withLock { if first == nil { first = error } } }
}

/// Hands out 0, 1, 2… to several threads.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            next += 1
            return next - 1
        }
    }
}
