import COpenSlide
import ImageCodecs

/// Region reads from the vendor formats OpenSlide understands (Aperio SVS, Hamamatsu NDPI/VMS, MIRAX
/// MRXS, Leica SCN, Ventana BIF, Philips TIFF, Sakura, Trestle).
///
/// Levels, their downsamples and tile sizes are OpenSlide's; the pixel size is `openslide.mpp-x` and
/// `openslide.mpp-y`. Pixels come from `openslide_read_region` (premultiplied ARGB) composited onto
/// white, so areas the scanner did not capture are white.
///
/// **Errors.** OpenSlide's error state is final: after one failed read every later call on the same
/// object fails with the same message. Each becomes a one-line `ImageError` naming the file.
///
/// **Threads.** Thread-safe: OpenSlide documents every function but `openslide_close` (called only in
/// `deinit`) as thread-safe, and decodes tiles for several threads in parallel, with its own tile cache.
final class OpenSlideReader: @unchecked Sendable {
    let vendor: String
    let levels: [SlideLevel]
    let micronsPerPixel: (x: Double, y: Double)?
    private let slide: OpaquePointer
    private let name: String

    /// The OpenSlide vendor of the file at `path` (`aperio`, `hamamatsu`, `generic-tiff`, …), or `nil`
    /// if OpenSlide does not recognise it. Cheap: OpenSlide looks at the header (and, for MIRAX and VMS,
    /// the index file beside it). `path` must be a regular file: OpenSlide would block on a FIFO.
    static func vendor(of path: String) -> String? {
        openslide_detect_vendor(path).map { String(cString: $0) }
    }

    /// Opens the slide. Throws `.unknownFormat` if OpenSlide does not recognise the file, `.corrupt`
    /// with OpenSlide's message if it recognises it but cannot open it. Cost: OpenSlide's open (it reads
    /// the file's index: every TIFF directory, a MIRAX index), no pixels.
    init(path: String, name: String) throws(ImageError) {
        self.name = name
        guard let slide = openslide_open(path) else {
            throw ImageError(.unknownFormat, file: name, "not a slide format OpenSlide reads")
        }
        if let error = openslide_get_error(slide) {
            let message = String(cString: error).singleLine
            openslide_close(slide)
            throw ImageError(.corrupt, file: name, "OpenSlide cannot open it: \(message)")
        }
        self.slide = slide
        func property(_ key: String) -> String? {
            openslide_get_property_value(slide, key).map { String(cString: $0) }
        }
        vendor = property(OPENSLIDE_PROPERTY_NAME_VENDOR) ?? "unknown"
        micronsPerPixel = PixelSize.checked(property(OPENSLIDE_PROPERTY_NAME_MPP_X).flatMap(Double.init),
                                            property(OPENSLIDE_PROPERTY_NAME_MPP_Y).flatMap(Double.init))
        let count = openslide_get_level_count(slide)
        var levels: [SlideLevel] = []
        for level in 0..<max(count, 0) {
            var width: Int64 = 0, height: Int64 = 0
            openslide_get_level_dimensions(slide, level, &width, &height)
            levels.append(SlideLevel(
                width: Int(width), height: Int(height), downsample: openslide_get_level_downsample(slide, level),
                tileWidth: property("openslide.level[\(level)].tile-width").flatMap { Int($0) },
                tileHeight: property("openslide.level[\(level)].tile-height").flatMap { Int($0) }))
        }
        self.levels = levels
        if let error = openslide_get_error(slide) {
            throw ImageError(.corrupt, file: name, "OpenSlide cannot read its levels: \(String(cString: error).singleLine)")
        }
        guard let first = levels.first, first.width > 0, first.height > 0 else {
            throw ImageError(.zeroSized, file: name, "the slide has no level of non-zero size")
        }
    }

    deinit { openslide_close(slide) }

    /// Reads the `width × height` region at (`x`, `y`) of `level`, in the level's pixels, into `out`
    /// (`3·width·height` bytes, RGB). OpenSlide takes the corner in level-0 pixels: (`x`, `y`) times the
    /// level's downsample, rounded, which OpenSlide divides back (for a downsample that is not an
    /// integer, OpenSlide may then shift the region by a fraction of a pixel). Cost: OpenSlide's decode
    /// of the tiles touched (cached across calls) and a `4·width·height`-byte buffer.
    func read(level: Int, x: Int, y: Int, width: Int, height: Int,
              into out: UnsafeMutablePointer<UInt8>) throws(ImageError) {
        let downsample = levels[level].downsample
        let count = width * height
        let argb = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
        defer { argb.deallocate() }
        openslide_read_region(slide, argb, Int64((Double(x) * downsample).rounded()),
                              Int64((Double(y) * downsample).rounded()), Int32(level), Int64(width), Int64(height))
        if let error = openslide_get_error(slide) {
            throw ImageError(.corrupt, file: name, "cannot read pixels (OpenSlide: \(String(cString: error).singleLine))")
        }
        for i in 0..<count {
            // Premultiplied ARGB in a native-endian word: add the white the pixel does not cover.
            let v = argb[i], uncovered = 255 - (v >> 24)
            out[3 * i] = UInt8(min(255, ((v >> 16) & 0xFF) + uncovered))
            out[3 * i + 1] = UInt8(min(255, ((v >> 8) & 0xFF) + uncovered))
            out[3 * i + 2] = UInt8(min(255, (v & 0xFF) + uncovered))
        }
    }
}
