import CTIFF
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
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) + "/" : ""
        let partial = "\(directory).\(name).partial-\(getpid())"
        var writer = try TileWriter(path: partial, name: name, tileSize: tileSize, compression: compression)
        var sizes = [(width: width, height: height)]
        while max(sizes.last!.width, sizes.last!.height) > tileSize {
            sizes.append(((sizes.last!.width + 1) / 2, (sizes.last!.height + 1) / 2))
        }
        let totalPixels = Double(sizes.reduce(0) { $0 + $1.width * $1.height })
        var donePixels = 0
        do throws(ImageError) {
            // Level 0: a band of tiles at a time from `rows`.
            try writer.startLevel(width: width, height: height, reduced: false, micronsPerPixel: micronsPerPixel)
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
                try writer.startLevel(width: size.width, height: size.height, reduced: true,
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

/// The libtiff side of `PyramidTIFFWriter`: one BigTIFF open for writing, a directory at a time.
private struct TileWriter {
    private var tiff: OpaquePointer?
    private let log = MessageLog()
    private let name: String
    private let tileSize: Int
    private let compression: PyramidTIFFWriter.Compression
    private var levelWidth = 0
    private var levelHeight = 0
    private var tile: [UInt8]

    init(path: String, name: String, tileSize: Int, compression: PyramidTIFFWriter.Compression) throws(ImageError) {
        TIFFLog.silenceGlobalHandlers
        self.name = name
        self.tileSize = tileSize
        self.compression = compression
        tile = [UInt8](repeating: 0, count: 3 * tileSize * tileSize)
        let options = TIFFOpenOptionsAlloc()
        defer { TIFFOpenOptionsFree(options) }
        TIFFLog.install(log, on: options)
        tiff = TIFFOpenExt(path, "w8", options)  // "8": BigTIFF
        if tiff == nil { throw failure("cannot create") }
    }

    /// Sets the tags of a new directory for a level of `width × height`.
    mutating func startLevel(width: Int, height: Int, reduced: Bool, micronsPerPixel: Double?) throws(ImageError) {
        levelWidth = width
        levelHeight = height
        set(TIFFTAG_SUBFILETYPE, reduced ? FILETYPE_REDUCEDIMAGE : 0)
        set(TIFFTAG_IMAGEWIDTH, Int32(width))
        set(TIFFTAG_IMAGELENGTH, Int32(height))
        set(TIFFTAG_TILEWIDTH, Int32(tileSize))
        set(TIFFTAG_TILELENGTH, Int32(tileSize))
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
    /// (`x`, `y`) is the tile's top-left corner; by default the column is `x / tileSize` of a full-width
    /// band. Parts of the tile beyond the level (or the image) repeat its last column and row, which
    /// compresses better than black and keeps JPEG from ringing at the edge.
    mutating func writeTile(from image: RGBImage, x: Int, y: Int, tileRow: Int, tileColumn: Int? = nil) throws(ImageError) {
        let column = tileColumn ?? x / tileSize
        let columns = min(tileSize, image.width - x, levelWidth - column * tileSize)
        let rows = min(tileSize, image.height - y, levelHeight - tileRow * tileSize)
        let size = tileSize
        image.pixels.withUnsafeBufferPointer { source in
            tile.withUnsafeMutableBufferPointer { destination in
                for row in 0..<size {
                    let from = 3 * ((y + min(row, rows - 1)) * image.width + x)
                    let to = 3 * row * size
                    for i in 0..<(3 * columns) { destination[to + i] = source[from + i] }
                    let last = from + 3 * (columns - 1)
                    for column in columns..<size {
                        destination[to + 3 * column] = source[last]
                        destination[to + 3 * column + 1] = source[last + 1]
                        destination[to + 3 * column + 2] = source[last + 2]
                    }
                }
            }
        }
        let index = TIFFComputeTile(tiff, UInt32(column * tileSize), UInt32(tileRow * tileSize), 0, 0)
        errno = 0
        let written = tile.withUnsafeMutableBytes { TIFFWriteEncodedTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
        if written < 0 { throw failure("cannot write tile (\(column), \(tileRow))") }
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
