import CPNG

/// PNG writing through libpng's simplified API: 8-bit RGB, non-interlaced, with an sRGB chunk.
enum PNGEncoder {
    /// The PNG file for `image`; `name` is the file named in errors. `fast` trades size for speed
    /// (`PNG_IMAGE_FLAG_FAST`: fewer filters, faster deflate).
    static func encode(_ image: RGBImage, fast: Bool, name: String) throws(ImageError) -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw ImageError(.writeFailed, file: name,
                             "cannot encode a PNG of zero size (\(image.width)×\(image.height))")
        }
        guard image.width <= Int(Int32.max) / 3, image.height <= Int(Int32.max) else {
            throw ImageError(.writeFailed, file: name,
                             "cannot encode a PNG of \(image.width)×\(image.height): too large for libpng")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        png.flags = fast ? UInt32(PNG_IMAGE_FLAG_FAST) : 0

        // An upper bound on the file size (libpng's PNG_IMAGE_PNG_SIZE_MAX: deflate's worst case on the
        // filtered rows plus chunk overheads), so that a single compression pass suffices.
        let raw = image.height * (1 + 3 * image.width)
        let deflated = raw + (raw + 7) / 8 + (raw + 63) / 64 + 11
        let capacity = deflated + 12 * (deflated / 0x7fff_ffff + 1) + 1024
        var size = capacity
        var ok: Int32 = 0
        let bytes = image.pixels.withUnsafeBytes { pixels in
            [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                ok = png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
                initialized = ok != 0 ? size : 0
            }
        }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: png.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            png_image_free(&png)
            throw ImageError(.writeFailed, file: name, "cannot encode PNG (libpng: \(message))")
        }
        return bytes
    }
}
