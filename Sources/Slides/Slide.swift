import ImageCodecs

/// A whole-slide image opened for reading region by region: the pixels are decoded only where a region
/// asks for them, never the whole image.
///
/// **Formats** (found from the content, never the file name):
/// - tiled and/or pyramidal TIFF, BigTIFF and OME-TIFF through libtiff (`TIFFSlideReader`: levels from
///   SubIFDs or reduced-resolution directories; 8-bit RGB/grey, JPEG-in-TIFF YCbCr, and whatever
///   libtiff's RGBA interface converts); a TIFF in strips too, read strip by strip;
/// - the vendor formats OpenSlide reads — Aperio SVS, Hamamatsu NDPI/VMS, MIRAX MRXS, Leica SCN,
///   Ventana BIF, Philips TIFF… — through OpenSlide (`OpenSlideReader`).
/// PNG and JPEG cannot be read by region and are not opened as slides.
///
/// **Coordinates.** Every region is given in the pixels of the level it is read from; level `n`'s pixel
/// (x, y) covers level-0 pixels from about (x, y) · `levels[n].downsample`.
///
/// **Errors.** Every failure is an `ImageError` whose `description` is one line naming the file
/// (`slide.svs: cannot read pixels (OpenSlide: …)`). A damaged file fails when it is opened if its
/// structure is damaged, and when a region is read if only pixel data is: a region is never returned
/// with made-up pixels.
///
/// **Threads.** A `Slide` is `Sendable` and `region` may be called from several threads at once: TIFF
/// reads each use a libtiff handle of their own (from a small pool), OpenSlide is thread-safe itself.
/// The file is closed when the last reference to the `Slide` goes.
public final class Slide: Sendable {
    /// The largest region one `region` call returns by default: the field limit of `ImageCodecs`
    /// (100 megapixels, 300 MB as `RGBImage`).
    public static let defaultMaxRegionPixels = ImageCodecs.defaultMaxPixels

    /// The path as given.
    public let path: String
    /// The file named in errors: the last path component of `path`.
    public let name: String
    public let format: SlideFormat
    /// The pyramid, largest first; `levels[0]` is the full resolution. Never empty.
    public let levels: [SlideLevel]
    /// Micrometres per level-0 pixel across and down, from the file (OME-XML `PhysicalSizeX/Y`, the TIFF
    /// resolution tags, OpenSlide's `openslide.mpp-x/y`); `nil` when the file does not say or says
    /// something implausible for a microscope (outside 0.01–20 µm/px, such as an image editor's 72 dpi).
    public let micronsPerPixel: (x: Double, y: Double)?
    /// The largest `width · height` one `region` call accepts.
    public let maxRegionPixels: Int

    private let reader: Reader

    private enum Reader: Sendable {
        case tiff(TIFFSlideReader)
        case openSlide(OpenSlideReader)
    }

    /// Width of level 0, in pixels.
    public var width: Int { levels[0].width }
    /// Height of level 0, in pixels.
    public var height: Int { levels[0].height }

    /// Opens the slide at `path` and reads its structure (levels, pixel size), no pixels.
    ///
    /// Throws (one line naming the file): `.unreadable` for a path that cannot be opened or is not a
    /// regular file, `.empty`, `.unknownFormat` for a file that is neither TIFF nor an OpenSlide format,
    /// `.unsupported` for PNG/JPEG (not readable by region), an unsupported TIFF layout or blocks
    /// too large to decode one at a time, `.corrupt`/`.truncated` for a damaged structure.
    /// Cost: the tags of every TIFF directory (not the tile offsets), or OpenSlide's open.
    public init(path: String, maxRegionPixels: Int = defaultMaxRegionPixels) throws(ImageError) {
        precondition(maxRegionPixels > 0, "maxRegionPixels must be positive")
        let file = try SlideFile(path: path)
        self.path = path
        name = file.name
        self.maxRegionPixels = maxRegionPixels
        if file.size == 0 { throw ImageError(.empty, file: name, "empty file (0 bytes)") }
        if let vendor = OpenSlideReader.vendor(of: path), vendor != "generic-tiff" {
            let reader = try OpenSlideReader(path: path, name: name)
            format = .openSlide(vendor: reader.vendor)
            levels = reader.levels
            micronsPerPixel = reader.micronsPerPixel
            self.reader = .openSlide(reader)
            return
        }
        switch ImageCodecs.detectFormat(file.bytes(at: 0, count: 8)) {
        case .tiff?:
            // A tile or strip decodes whole: allow blocks of up to 4 bytes per pixel of the largest region.
            let blockLimit = maxRegionPixels > Int.max / 4 ? Int.max : max(64 << 20, 4 * maxRegionPixels)
            let reader = try TIFFSlideReader(file: file, maxBlockBytes: blockLimit)
            format = reader.isOME ? .omeTIFF(bigTIFF: reader.isBigTIFF) : reader.isBigTIFF ? .bigTIFF : .tiff
            let base = reader.levels[0]
            levels = reader.levels.map { level in
                SlideLevel(width: level.width, height: level.height,
                           downsample: (Double(base.width) / Double(level.width) + Double(base.height) / Double(level.height)) / 2,
                           tileWidth: level.blockWidth, tileHeight: level.blockHeight)
            }
            micronsPerPixel = reader.micronsPerPixel
            self.reader = .tiff(reader)
        case let other?:
            let size = ImageHeader.dimensions(of: file, format: other).map { " (\($0.width)×\($0.height))" } ?? ""
            throw ImageError(.unsupported, file: name,
                             "a \(other == .png ? "PNG" : "JPEG")\(size) cannot be read by region; only TIFF and the formats OpenSlide reads open as slides")
        case nil:
            throw ImageError(.unknownFormat, file: name, "not a slide (neither a TIFF nor a format OpenSlide reads)")
        }
    }

    /// The `width × height` pixels whose top-left corner is (`x`, `y`), in the pixels of `level`.
    ///
    /// The region must lie inside the level: a region partly or wholly outside it, of zero or negative
    /// size, or at a level that does not exist is an error (`.unsupported`), never clipped or padded.
    /// Regions over `maxRegionPixels` are `.tooLarge`. A damaged tile is `.corrupt` or `.truncated`.
    ///
    /// Cost: decodes every tile (or strip) the region touches, once per call and without a cache (for
    /// OpenSlide formats, OpenSlide's own cache), plus one `3·width·height`-byte result. Aligning regions
    /// to `levels[level].tileWidth/tileHeight` avoids decoding a tile for two regions.
    public func region(x: Int, y: Int, width: Int, height: Int, level: Int = 0) throws(ImageError) -> RGBImage {
        guard levels.indices.contains(level) else {
            throw ImageError(.unsupported, file: name, "level \(level) does not exist (the slide has \(levels.count))")
        }
        let size = levels[level]
        guard width > 0, height > 0, x >= 0, y >= 0, x <= size.width - width, y <= size.height - height else {
            throw ImageError(.unsupported, file: name,
                             "region \(width)×\(height) at (\(x), \(y)) is not inside level \(level) (\(size.width)×\(size.height))")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxRegionPixels else {
            throw ImageError(.tooLarge, file: name,
                             "region \(width)×\(height) exceeds the \(maxRegionPixels)-pixel limit of one read")
        }
        let reader = self.reader
        var failure: ImageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: 3 * pixels) { buffer, initialized in
            do throws(ImageError) {
                switch reader {
                case .tiff(let tiff):
                    try tiff.read(level: level, x: x, y: y, width: width, height: height, into: buffer.baseAddress!)
                case .openSlide(let openSlide):
                    try openSlide.read(level: level, x: x, y: y, width: width, height: height, into: buffer.baseAddress!)
                }
            } catch {
                failure = error
                buffer.initialize(repeating: 0)
            }
            initialized = 3 * pixels
        }
        if let failure { throw failure }
        return RGBImage(width: width, height: height, pixels: bytes)
    }

    /// Whether the file at `path` is to be analysed as a slide rather than as one field: a file OpenSlide
    /// recognises (any vendor format, or a tiled TIFF), a tiled TIFF, a pyramidal TIFF (SubIFDs or
    /// reduced-resolution directories), or any TIFF, PNG or JPEG of more than `fieldLimit` pixels.
    /// Anything else — including a path that cannot be opened, a non-regular file or an unknown format —
    /// is `false`, for the field reader to report.
    ///
    /// Cheap: the header only (for a TIFF the tags of its directories, not the tile offsets; for a JPEG
    /// its segments up to the frame header); never decodes pixels and never blocks on a FIFO.
    public static func isSlide(path: String, fieldLimit: Int = ImageCodecs.defaultMaxPixels) -> Bool {
        guard let file = try? SlideFile(path: path), file.size > 0 else { return false }
        if OpenSlideReader.vendor(of: path) != nil { return true }
        switch ImageCodecs.detectFormat(file.bytes(at: 0, count: 8)) {
        case .tiff?:
            return TIFFSlideReader.isSlide(file, fieldLimit: fieldLimit)
        case let format?:
            guard let size = ImageHeader.dimensions(of: file, format: format) else { return false }
            let (pixels, overflow) = size.width.multipliedReportingOverflow(by: size.height)
            return overflow || pixels > fieldLimit
        case nil:
            return false
        }
    }
}
