import CTIFF
import Foundation
import ImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a pyramidal tiled BigTIFF from rows of pixels supplied a band at a time, in memory bounded by
/// one band: the whole image is never held.
///
/// **Layout** (what OpenSlide's generic-tiff reader, QuPath, libvips and `Slide` read): level 0 in the
/// first directory, then one directory per level flagged reduced-resolution (NewSubfileType 1), each
/// half the size of the one before (⌈w/2⌉ × ⌈h/2⌉) until one tile holds it. Square tiles, 8-bit RGB,
/// ResolutionUnit centimetre with X/YResolution from `micronsPerPixel` (scaled for each level).
///
/// **Levels.** Level n+1 is the 2×2 box average (rounded; a block cut by the edge averages the pixels
/// it has) of level n *as stored*, read back from the file with `Slide`: with JPEG that is the decoded
/// level, so each level is what a viewer of the level above would average.
///
/// The file appears at `path` only when complete: it is written beside it under a hidden name and
/// renamed at the end; on failure the partial file is removed.
///
/// Two ways in: `write` takes level 0 band by band in order and encodes with libtiff; `Builder` takes
/// tiles already compressed (`jpegTile`) in any order, from several threads, and writes the file when
/// it has them all.
public enum PyramidTIFFWriter {
    /// How tiles are compressed.
    public enum Compression: Sendable, Equatable {
        /// JPEG (YCbCr, 4:2:0), quality 1–100, as scanners store slides.
        case jpeg(quality: Int)
        /// Deflate with horizontal differencing: lossless.
        case deflate
        /// Uncompressed.
        case none
    }

    /// Writes the `width × height` image whose rows `rows(y, count)` returns (an image `width` wide and
    /// `count` high holding rows `y..<y+count`; asked for in order, `tileSize` rows at a time, fewer at the
    /// bottom) to `path` as a pyramidal tiled BigTIFF, and returns the levels written.
    ///
    /// `tileSize` must be a positive multiple of 16 (TIFF's rule for tiles). `progress` is called
    /// with the fraction done (0–1, over all levels by pixel count) after each band of tiles.
    /// Throws the errors of `rows` as they are, and `.writeFailed` (one line naming `path`'s file) if the
    /// file cannot be written. Memory: a band of `tileSize` rows of level 0 (`3·width·tileSize` bytes)
    /// plus a few tiles. Cost: one encode of every tile of every level, and one decode of every level
    /// but the last to make the next.
    @discardableResult
    public static func write(to path: String, width: Int, height: Int, tileSize: Int = 512,
                             compression: Compression = .jpeg(quality: 90), micronsPerPixel: Double? = nil,
                             progress: (Double) -> Void = { _ in },
                             rows: (_ y: Int, _ count: Int) throws(ImageError) -> RGBImage) throws(ImageError) -> [SlideLevel] {
        precondition(width > 0 && height > 0, "the image must not be empty")
        precondition(tileSize > 0 && tileSize % 16 == 0, "tiles must be a positive multiple of 16")
        let name = SlideFile.displayName(path)
        let partial = hiddenSibling(of: path, suffix: "partial")
        var writer = try TileWriter(path: partial, name: name, compression: compression)
        var sizes = [(width: width, height: height)]
        while max(sizes.last!.width, sizes.last!.height) > tileSize {
            sizes.append(((sizes.last!.width + 1) / 2, (sizes.last!.height + 1) / 2))
        }
        let totalPixels = Double(sizes.reduce(0) { $0 + $1.width * $1.height })
        var donePixels = 0
        do throws(ImageError) {
            // Level 0: a band of tiles at a time from `rows`.
            try writer.startLevel(width: width, height: height, tileWidth: tileSize, tileHeight: tileSize, reduced: false,
                                  micronsPerPixel: micronsPerPixel)
            for y in stride(from: 0, to: height, by: tileSize) {
                let count = min(tileSize, height - y)
                let band = try rows(y, count)
                precondition(band.width == width && band.height == count, "rows(\(y), \(count)) returned \(band.width)×\(band.height)")
                for x in stride(from: 0, to: width, by: tileSize) {
                    try writer.writeTile(from: band, x: x, y: 0, tileRow: y / tileSize)
                }
                donePixels += width * count
                progress(Double(donePixels) / totalPixels)
            }
            try writer.finishLevel()
            // Each further level from the one just written, read back tile-aligned: 2×2 source tiles per tile.
            for level in 1..<sizes.count {
                let source = try Slide(path: partial)
                guard source.levels.count == level else {
                    throw ImageError(.writeFailed, file: name, "cannot write: level \(level - 1) did not read back")
                }
                let above = sizes[level - 1], size = sizes[level]
                try writer.startLevel(width: size.width, height: size.height, tileWidth: tileSize, tileHeight: tileSize, reduced: true,
                                      micronsPerPixel: micronsPerPixel.map { $0 * Double(1 << level) })
                for tileRow in 0..<((size.height + tileSize - 1) / tileSize) {
                    let y0 = 2 * tileRow * tileSize, h = min(2 * tileSize, above.height - y0)
                    for tileColumn in 0..<((size.width + tileSize - 1) / tileSize) {
                        let x0 = 2 * tileColumn * tileSize, w = min(2 * tileSize, above.width - x0)
                        let tile = try source.region(x: x0, y: y0, width: w, height: h, level: level - 1).boxDownscaled(by: 2)
                        try writer.writeTile(from: tile, x: 0, y: 0, tileRow: tileRow, tileColumn: tileColumn)
                    }
                    donePixels += size.width * min(tileSize, size.height - tileRow * tileSize)
                    progress(Double(donePixels) / totalPixels)
                }
                try writer.finishLevel()
            }
            try writer.close()
            guard rename(partial, path) == 0 else {
                throw ImageError(.writeFailed, file: name, "cannot write: \(String(cString: strerror(errno)))")
            }
        } catch {
            writer.abandon()
            unlink(partial)
            throw error
        }
        let base = sizes[0]
        return sizes.map { size in
            SlideLevel(width: size.width, height: size.height,
                       downsample: (Double(base.width) / Double(size.width) + Double(base.height) / Double(size.height)) / 2,
                       tileWidth: tileSize, tileHeight: tileSize)
        }
    }
}

extension PyramidTIFFWriter {
    /// `image` (at most `tileWidth × tileHeight`; its pixels from the top-left corner) compressed as one
    /// tile of `tileWidth × tileHeight`: a complete baseline JPEG, YCbCr 4:2:0, with its own tables, so
    /// the same bytes are a TIFF tile (`Builder`) and a file a browser opens (`JPEGEncoder`). Where `image`
    /// is smaller than the tile, its last column and row are repeated. Thread-safe.
    /// Cost: one JPEG encode of the tile (about 10 ns per pixel on one core).
    public static func jpegTile(_ image: RGBImage, tileWidth: Int, tileHeight: Int, quality: Int) throws(ImageError) -> [UInt8] {
        precondition(image.width >= 1 && image.height >= 1 && image.width <= tileWidth && image.height <= tileHeight,
                     "a \(image.width)×\(image.height) image does not fit a \(tileWidth)×\(tileHeight) tile")
        var padded: [UInt8] = []
        let full = image.width == tileWidth && image.height == tileHeight
        if !full {
            padded = [UInt8](repeating: 0, count: 3 * tileWidth * tileHeight)
            padTile(from: image, x: 0, y: 0, columns: image.width, rows: image.height, width: tileWidth, height: tileHeight, into: &padded)
        }
        return try (full ? image.pixels : padded).withUnsafeBufferPointer { source throws(ImageError) in
            try JPEGEncoder.encode(source.baseAddress!, width: tileWidth, height: tileHeight, quality: quality, name: "tile")
        }
    }

    /// Builds a pyramidal tiled BigTIFF from JPEG tiles (`jpegTile`) given in any order, from several
    /// threads at once, for images that are made a tile at a time out of order (the overlay of a slide
    /// analysed in tiles spread over it). Same layout as `write` (level 0 first, then each reduced
    /// level, NewSubfileType 1, resolution from `micronsPerPixel`), with self-contained JPEG tiles
    /// (YCbCr 4:2:0, no JPEGTables tag).
    ///
    /// **Levels.** `levels[k]` is ⌈width/2ᵏ⌉ × ⌈height/2ᵏ⌉, down to the first that fits one tile of
    /// `tileWidth × tileHeight`. The first `tileLevels` of them take their tiles from `add`, in tiles
    /// of (`tileWidth` >> k) × (`tileHeight` >> k), so that one tile of level 0 and the tiles of the
    /// same area in levels 1, 2… can be made together from the same pixels (no level is decoded to make
    /// another). `finish` makes each further level as `write` does: the 2×2 box average of the level
    /// above as stored, read back from the file, in tiles of `tileWidth × tileHeight`.
    ///
    /// **Order does not matter.** Tiles are kept in a scratch file (unlinked as soon as it is created,
    /// so that nothing is left behind whatever ends the process) and written into the TIFF in order by
    /// `finish`: the same tiles give the same file byte for byte, whatever order they came in.
    ///
    /// Memory: an index of the tiles (16 bytes each). Cost: `add` one write of the tile's bytes;
    /// `finish` one copy of them, plus one decode, box average and encode for the levels it makes.
    public final class Builder: @unchecked Sendable {
        public let path: String
        /// Every level, largest first (`downsample` as `Slide` gives it).
        public let levels: [SlideLevel]
        /// Levels whose tiles come from `add` (at most all of them).
        public let tileLevels: Int
        public let tileWidth: Int, tileHeight: Int
        public let quality: Int
        let micronsPerPixel: Double?
        private let name: String
        private let scratch: Int32
        private let lock = NSLock()
        /// Where each tile of each level given by `add` is in the scratch file (nil: not given yet).
        private var stored: [[(offset: Int, count: Int)?]]
        private var end = 0

        /// Prepares a `width × height` pyramid at `path` whose first `tileLevels` levels (at least 1)
        /// come from `add` (`tileWidth` >> k and `tileHeight` >> k positive multiples of 16 for each);
        /// `quality` (1–100) for the levels `finish` makes. Throws `.writeFailed` when the scratch file
        /// beside `path` cannot be created.
        public init(path: String, width: Int, height: Int, tileWidth: Int, tileHeight: Int, tileLevels: Int,
                    quality: Int = 85, micronsPerPixel: Double? = nil) throws(ImageError) {
            precondition(width > 0 && height > 0, "the image must not be empty")
            var sizes = [(width: width, height: height)]
            while sizes.last!.width > tileWidth || sizes.last!.height > tileHeight {
                sizes.append(((sizes.last!.width + 1) / 2, (sizes.last!.height + 1) / 2))
            }
            let given = max(1, min(tileLevels, sizes.count))
            for k in 0..<given {
                precondition(tileWidth >> k > 0 && (tileWidth >> k) % 16 == 0 && tileHeight >> k > 0 && (tileHeight >> k) % 16 == 0,
                             "tiles of level \(k) must be positive multiples of 16")
            }
            self.path = path
            name = SlideFile.displayName(path)
            self.tileWidth = tileWidth
            self.tileHeight = tileHeight
            self.tileLevels = given
            self.quality = quality
            self.micronsPerPixel = micronsPerPixel
            levels = sizes.enumerated().map { k, size in
                let (tw, th) = k < given ? (tileWidth >> k, tileHeight >> k) : (tileWidth, tileHeight)
                return SlideLevel(width: size.width, height: size.height,
                                  downsample: (Double(width) / Double(size.width) + Double(height) / Double(size.height)) / 2,
                                  tileWidth: tw, tileHeight: th)
            }
            stored = levels.prefix(given).map { level in
                [(offset: Int, count: Int)?](repeating: nil, count: Self.columns(level) * Self.rows(level))
            }
            let scratchPath = hiddenSibling(of: path, suffix: "tiles")
            scratch = open(scratchPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if scratch < 0 {
                throw ImageError(.writeFailed, file: name, "cannot create a scratch file (\(String(cString: strerror(errno))))")
            }
            unlink(scratchPath)
        }

        deinit { close(scratch) }

        static func columns(_ level: SlideLevel) -> Int { (level.width + level.tileWidth! - 1) / level.tileWidth! }
        static func rows(_ level: SlideLevel) -> Int { (level.height + level.tileHeight! - 1) / level.tileHeight! }

        /// Keeps `jpeg` (from `jpegTile`, of level `level`'s tile size) as the tile at (`column`, `row`)
        /// of `level` (< `tileLevels`). A tile given twice keeps its last bytes. Thread-safe; the write
        /// itself runs outside the lock. Throws `.writeFailed` when the scratch file cannot be written.
        public func add(_ jpeg: [UInt8], level: Int, column: Int, row: Int) throws(ImageError) {
            precondition(level >= 0 && level < tileLevels && column >= 0 && row >= 0
                         && column < Self.columns(levels[level]) && row < Self.rows(levels[level]), "no tile (\(column), \(row)) at level \(level)")
            lock.lock()
            let offset = end
            end += jpeg.count
            lock.unlock()
            var done = 0
            while done < jpeg.count {
                let n = jpeg.withUnsafeBytes { pwrite(scratch, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw ImageError(.writeFailed, file: name, "cannot write a tile (\(String(cString: strerror(errno))))")
                }
                done += n
            }
            lock.lock()
            stored[level][row * Self.columns(levels[level]) + column] = (offset, jpeg.count)
            lock.unlock()
        }

        /// Writes the TIFF: the tiles given, in order, then the levels made from them; `made(level,
        /// column, row, jpeg)` sees each tile of those (e.g. to keep them as viewer tiles too) and may
        /// throw to stop. The file appears at `path` only when complete (written under a hidden name,
        /// renamed); on failure it is removed. Throws `.writeFailed` (one line naming the file) when a
        /// tile of a given level is missing or the file cannot be written, or what `made` throws.
        /// Call once, after every `add` has returned.
        public func finish(made: (_ level: Int, _ column: Int, _ row: Int, _ jpeg: [UInt8]) throws -> Void) throws {
            let partial = hiddenSibling(of: path, suffix: "partial")
            var writer = try TileWriter(path: partial, name: name, compression: .jpeg(quality: quality))
            do {
                for k in 0..<tileLevels {
                    let level = levels[k], columns = Self.columns(level)
                    try startLevel(k, writer: &writer)
                    for (index, place) in stored[k].enumerated() {
                        guard let place else {
                            throw ImageError(.writeFailed, file: name, "tile (\(index % columns), \(index / columns)) of level \(k) was never given")
                        }
                        try writer.writeRawTile(try read(place), column: index % columns, row: index / columns)
                    }
                    try writer.finishLevel()
                }
                for k in tileLevels..<levels.count {
                    let source = try Slide(path: partial)
                    guard source.levels.count == k else {
                        throw ImageError(.writeFailed, file: name, "cannot write: level \(k - 1) did not read back")
                    }
                    let above = levels[k - 1], level = levels[k]
                    try startLevel(k, writer: &writer)
                    for row in 0..<Self.rows(level) {
                        let y0 = 2 * row * tileHeight, h = min(2 * tileHeight, above.height - y0)
                        for column in 0..<Self.columns(level) {
                            let x0 = 2 * column * tileWidth, w = min(2 * tileWidth, above.width - x0)
                            let tile = try source.region(x: x0, y: y0, width: w, height: h, level: k - 1).boxDownscaled(by: 2)
                            let jpeg = try PyramidTIFFWriter.jpegTile(tile, tileWidth: tileWidth, tileHeight: tileHeight, quality: quality)
                            try writer.writeRawTile(jpeg, column: column, row: row)
                            try made(k, column, row, jpeg)
                        }
                    }
                    try writer.finishLevel()
                }
                try writer.close()
                guard rename(partial, path) == 0 else {
                    throw ImageError(.writeFailed, file: name, "cannot write: \(String(cString: strerror(errno)))")
                }
            } catch {
                writer.abandon()
                unlink(partial)
                throw error
            }
        }

        private func startLevel(_ k: Int, writer: inout TileWriter) throws(ImageError) {
            let level = levels[k]
            try writer.startLevel(width: level.width, height: level.height, tileWidth: level.tileWidth!, tileHeight: level.tileHeight!,
                                  reduced: k > 0, micronsPerPixel: micronsPerPixel.map { $0 * Double(1 << k) })
        }

        /// The bytes of a tile kept by `add`.
        private func read(_ place: (offset: Int, count: Int)) throws(ImageError) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: place.count)
            var done = 0
            while done < place.count {
                let n = bytes.withUnsafeMutableBytes { pread(scratch, $0.baseAddress! + done, $0.count - done, off_t(place.offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ImageError(.writeFailed, file: name, "cannot read back a tile (\(String(cString: strerror(errno))))") }
                done += n
            }
            return bytes
        }
    }
}

/// A hidden file beside `path` for this process: `DIR/.NAME.SUFFIX-PID`.
func hiddenSibling(of path: String, suffix: String) -> String {
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) + "/" : ""
    return "\(directory).\(SlideFile.displayName(path)).\(suffix)-\(getpid())"
}

/// Copies the `columns × rows` pixels at (`x`, `y`) of `image` into the `width × height` tile `tile`
/// (RGB, `3·width·height` bytes), repeating the last column and row beyond them.
func padTile(from image: RGBImage, x: Int, y: Int, columns: Int, rows: Int, width: Int, height: Int, into tile: inout [UInt8]) {
    image.pixels.withUnsafeBufferPointer { source in
        tile.withUnsafeMutableBufferPointer { destination in
            for row in 0..<height {
                let from = 3 * ((y + min(row, rows - 1)) * image.width + x)
                let to = 3 * row * width
                for i in 0..<(3 * columns) { destination[to + i] = source[from + i] }
                let last = from + 3 * (columns - 1)
                for column in columns..<width {
                    destination[to + 3 * column] = source[last]
                    destination[to + 3 * column + 1] = source[last + 1]
                    destination[to + 3 * column + 2] = source[last + 2]
                }
            }
        }
    }
}

/// The libtiff side of `PyramidTIFFWriter`: one BigTIFF open for writing, a directory at a time.
private struct TileWriter {
    private var tiff: OpaquePointer?
    private let log = MessageLog()
    private let name: String
    private let compression: PyramidTIFFWriter.Compression
    private var levelWidth = 0
    private var levelHeight = 0
    private var tileWidth = 0
    private var tileHeight = 0
    private var tile: [UInt8] = []

    init(path: String, name: String, compression: PyramidTIFFWriter.Compression) throws(ImageError) {
        TIFFLog.silenceGlobalHandlers
        self.name = name
        self.compression = compression
        let options = TIFFOpenOptionsAlloc()
        defer { TIFFOpenOptionsFree(options) }
        TIFFLog.install(log, on: options)
        tiff = TIFFOpenExt(path, "w8", options)  // "8": BigTIFF
        if tiff == nil { throw failure("cannot create") }
    }

    /// Sets the tags of a new directory for a level of `width × height` in tiles of
    /// `tileWidth × tileHeight` (multiples of 16).
    mutating func startLevel(width: Int, height: Int, tileWidth: Int, tileHeight: Int, reduced: Bool,
                             micronsPerPixel: Double?) throws(ImageError) {
        levelWidth = width
        levelHeight = height
        if tileWidth * tileHeight != self.tileWidth * self.tileHeight {
            tile = [UInt8](repeating: 0, count: 3 * tileWidth * tileHeight)
        }
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        set(TIFFTAG_SUBFILETYPE, reduced ? FILETYPE_REDUCEDIMAGE : 0)
        set(TIFFTAG_IMAGEWIDTH, Int32(width))
        set(TIFFTAG_IMAGELENGTH, Int32(height))
        set(TIFFTAG_TILEWIDTH, Int32(tileWidth))
        set(TIFFTAG_TILELENGTH, Int32(tileHeight))
        set(TIFFTAG_BITSPERSAMPLE, 8)
        set(TIFFTAG_SAMPLESPERPIXEL, 3)
        set(TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG)
        switch compression {
        case .jpeg(let quality):
            set(TIFFTAG_COMPRESSION, COMPRESSION_JPEG)
            set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR)
            set(TIFFTAG_JPEGQUALITY, Int32(max(1, min(100, quality))))
            set(TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)  // libjpeg converts the RGB given to YCbCr
        case .deflate:
            set(TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE)
            set(TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL)
            set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB)
        case .none:
            set(TIFFTAG_COMPRESSION, COMPRESSION_NONE)
            set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB)
        }
        if let micronsPerPixel {
            set(TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER)
            _ = withVaList([10_000 / micronsPerPixel]) { TIFFVSetField(tiff, UInt32(TIFFTAG_XRESOLUTION), $0) }
            _ = withVaList([10_000 / micronsPerPixel]) { TIFFVSetField(tiff, UInt32(TIFFTAG_YRESOLUTION), $0) }
        }
        if !log.errors.isEmpty { throw failure("cannot write the tags of a level") }
    }

    /// Encodes the tile at (`tileColumn`, `tileRow`) of the current level from `image`, whose pixel
    /// (`x`, `y`) is the tile's top-left corner; by default the column is `x / tileWidth` of a full-width
    /// band. Parts of the tile beyond the level (or the image) repeat its last column and row, which
    /// compresses better than black and keeps JPEG from ringing at the edge.
    mutating func writeTile(from image: RGBImage, x: Int, y: Int, tileRow: Int, tileColumn: Int? = nil) throws(ImageError) {
        let column = tileColumn ?? x / tileWidth
        let columns = min(tileWidth, image.width - x, levelWidth - column * tileWidth)
        let rows = min(tileHeight, image.height - y, levelHeight - tileRow * tileHeight)
        padTile(from: image, x: x, y: y, columns: columns, rows: rows, width: tileWidth, height: tileHeight, into: &tile)
        let index = TIFFComputeTile(tiff, UInt32(column * tileWidth), UInt32(tileRow * tileHeight), 0, 0)
        errno = 0
        let written = tile.withUnsafeMutableBytes { TIFFWriteEncodedTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
        if written < 0 { throw failure("cannot write tile (\(column), \(tileRow))") }
    }

    /// Stores `data`, a tile compressed already (a complete JPEG of exactly the tile's size, see
    /// `PyramidTIFFWriter.jpegTile`), as the tile at (`column`, `row`) of the current level, as it is.
    mutating func writeRawTile(_ data: [UInt8], column: Int, row: Int) throws(ImageError) {
        let index = TIFFComputeTile(tiff, UInt32(column * tileWidth), UInt32(row * tileHeight), 0, 0)
        errno = 0
        var bytes = data
        let written = bytes.withUnsafeMutableBytes { TIFFWriteRawTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
        if written < 0 { throw failure("cannot write tile (\(column), \(row))") }
    }

    /// Writes the current level's directory (and flushes its data to the file).
    mutating func finishLevel() throws(ImageError) {
        errno = 0
        if TIFFWriteDirectory(tiff) == 0 { throw failure("cannot write a directory") }
    }

    /// Closes the file; throws if libtiff reported an error while flushing.
    mutating func close() throws(ImageError) {
        errno = 0
        TIFFClose(tiff)
        tiff = nil
        if !log.errors.isEmpty { throw failure("cannot finish the file") }
    }

    /// Closes the file after a failure, reporting nothing.
    mutating func abandon() {
        if let tiff { TIFFClose(tiff) }
        tiff = nil
    }

    private func set(_ tag: Int32, _ value: Int32) {
        _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) }
    }

    /// The error for a failed libtiff call: libtiff's first message, or the system's (`errno`, which the
    /// callers clear before each call).
    private func failure(_ what: String) -> ImageError {
        let system = errno != 0 ? String(cString: strerror(errno)) : nil
        let detail = log.errors.first.map { "libtiff: \($0)" } ?? system
        return ImageError(.writeFailed, file: name, "\(what)\(detail.map { " (\($0))" } ?? "")")
    }
}
