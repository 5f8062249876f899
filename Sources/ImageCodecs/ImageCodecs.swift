/// Reading PNG, JPEG and TIFF files into `RGBImage`s, and writing PNG.
///
/// The format is always taken from the bytes (`detectFormat`), never from the file name. Every failure is
/// an `ImageError` whose `description` is one line naming the file; malformed input never traps.
/// All functions are thread-safe and may run concurrently.
public enum ImageCodecs {
    /// Default limit on width·height (pixels) before any large allocation: 100 megapixels
    /// (300 MB as `RGBImage`).
    public static let defaultMaxPixels: Int = 100_000_000

    /// Decodes a PNG, JPEG or TIFF image held in memory.
    ///
    /// - `name` is the file named in errors.
    /// - `maxPixels` bounds width·height; larger images throw `.tooLarge` after the header is read and
    ///   before the pixel buffer is allocated.
    ///
    /// JPEGs are turned upright according to their EXIF orientation; PNG alpha is composited onto white;
    /// TIFFs yield their first page. Cost: the decoder's work plus one `3·width·height`-byte buffer; some
    /// variants need an intermediate (TIFF: one strip or tile, or a `4·width·height` raster for palette,
    /// separate-plane and other less common layouts; interlaced 16-bit PNG: `8·width·height`).
    public static func decode(_ bytes: [UInt8], name: String,
                              maxPixels: Int = defaultMaxPixels) throws(ImageError) -> RGBImage {
        try decode(bytes, name: name, maxPixels: maxPixels, downscale: 1)
    }

    /// Reads and decodes the image file at `path` (see `decode`). Errors name the last path component.
    public static func read(path: String, maxPixels: Int = defaultMaxPixels) throws(ImageError) -> RGBImage {
        let name = FileIO.displayName(path)
        return try decode(FileIO.readAll(path: path, file: name), name: name, maxPixels: maxPixels, downscale: 1)
    }

    /// Reads the image file at `path` reduced by the integer factor `downscale` (≥ 1) in each direction,
    /// to ⌈width/downscale⌉ × ⌈height/downscale⌉, for fast previews and segmentation.
    ///
    /// JPEG: libjpeg-turbo's DCT scaling does the largest power-of-two part of the factor that is at most 8
    /// while decoding (so 2, 4 and 8 cost a fraction of a full decode); any remaining factor is a box
    /// average. Other formats: full decode, then a box average (each output pixel the mean of its block).
    /// `maxPixels` applies to the full-size image.
    public static func read(path: String, downscale: Int,
                            maxPixels: Int = defaultMaxPixels) throws(ImageError) -> RGBImage {
        precondition(downscale >= 1, "downscale must be at least 1")
        let name = FileIO.displayName(path)
        return try decode(FileIO.readAll(path: path, file: name), name: name, maxPixels: maxPixels,
                          downscale: downscale)
    }

    /// Encodes `image` as an 8-bit RGB PNG (with an sRGB chunk). `fast` (the default, for overlays): Up
    /// filter, deflated in one call by libdeflate at level 1, 20–24 ms and 32–39 % of the raw size for a
    /// 1280×960 field, memory about twice the raw image; otherwise adaptive filters and zlib level 6
    /// (`Z_FILTERED`, libpng's default setting), streamed, 13–15× slower and 12–16 % smaller (figures in
    /// BENCHMARKS.md, "PNG encoding"). Throws `.writeFailed` for an image of zero size or too large for
    /// PNG, or if libdeflate or zlib fails. Cost: one filter and one deflate pass over `3·width·height`
    /// bytes.
    public static func encodePNG(_ image: RGBImage, fast: Bool = true) throws(ImageError) -> [UInt8] {
        try PNGEncoder.encode(image, fast: fast, name: "<memory>")
    }

    /// Writes `image` as a PNG file at `path`, replacing any existing file (see `encodePNG`).
    /// Errors (`.writeFailed`) name the last path component.
    public static func writePNG(_ image: RGBImage, to path: String, fast: Bool = true) throws(ImageError) {
        let name = FileIO.displayName(path)
        try FileIO.writeAll(PNGEncoder.encode(image, fast: fast, name: name), path: path, file: name)
    }

    private static func decode(_ bytes: [UInt8], name: String, maxPixels: Int,
                               downscale: Int) throws(ImageError) -> RGBImage {
        if bytes.isEmpty { throw ImageError(.empty, file: name, "empty file (0 bytes)") }
        // `Array.withUnsafeBytes` rethrows untyped errors; carry the typed one out in a `Result`.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ImageError) -> RGBImage in try decode(raw, name: name, maxPixels: maxPixels,
                                                                      downscale: downscale) }
        }
        return try result.get()
    }

    private static func decode(_ raw: UnsafeRawBufferPointer, name: String, maxPixels: Int,
                               downscale: Int) throws(ImageError) -> RGBImage {
        switch detectFormat(raw) {
        case .png?:
            return try PNGDecoder.decode(raw, name: name, maxPixels: maxPixels).boxDownscaled(by: downscale)
        case .jpeg?:
            // Largest of 8, 4, 2, 1 that divides the factor goes to the DCT, the rest to a box average.
            let dctScale = [8, 4, 2, 1].first { downscale % $0 == 0 }!
            let image = try JPEGDecoder.decode(raw, name: name, maxPixels: maxPixels, scale: dctScale)
                .boxDownscaled(by: downscale / dctScale)
            return EXIFOrientation.apply(EXIFOrientation.read(jpeg: raw), to: image)
        case .tiff?:
            return try TIFFDecoder.decode(raw, name: name, maxPixels: maxPixels).boxDownscaled(by: downscale)
        case nil:
            throw ImageError(.unknownFormat, file: name, "not a PNG, JPEG or TIFF image")
        }
    }
}
