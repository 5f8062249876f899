import CPNG

/// PNG reading through libpng's simplified API (`png_image_*`), which needs no `setjmp`.
///
/// Handles every PNG colour type and bit depth (1–16 bits; grey, grey+alpha, RGB, RGBA, palette, tRNS)
/// and interlacing. 16-bit samples are treated as sRGB-encoded (`PNG_IMAGE_FLAG_16BIT_sRGB`) and scaled to
/// 8 bits, grey is replicated, and **alpha is composited onto white** (the colour of an empty
/// bright-field background), so a transparent pixel reads as (255, 255, 255).
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> RGBImage {
        // libpng reports a zero width or height as a generic IHDR error; read the IHDR fields
        // (bytes 16–23, after the signature and the chunk's length and type) to say so plainly.
        if bytes.count >= 24 {
            let width = bigEndian32(bytes, at: 16), height = bigEndian32(bytes, at: 20)
            if width == 0 || height == 0 {
                throw ImageError(.zeroSized, file: name, "PNG image has zero size (\(width)×\(height))")
            }
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
            throw error(from: &image, name: name, size: bytes.count)
        }
        let width = Int(image.width), height = Int(image.height)
        do {
            try checkDimensions(width: width, height: height, maxPixels: maxPixels, file: name, format: "PNG")
        } catch {
            png_image_free(&image)
            throw error
        }
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = UInt32(PNG_FORMAT_RGB)
        var white = png_color(red: 255, green: 255, blue: 255)
        let count = width * height * 3
        var ok: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            ok = png_image_finish_read(&image, &white, buffer.baseAddress, Int32(width * 3), nil)
            initialized = count
        }
        guard ok != 0 else { throw error(from: &image, name: name, size: bytes.count) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Turns libpng's message into an `ImageError` and releases libpng's state.
    private static func error(from image: inout png_image, name: String, size: Int) -> ImageError {
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        png_image_free(&image)
        switch message {
        case let m where m.contains("read beyond end of data") || m.contains("Not enough image data")
                || m.contains("Read Error"):
            return ImageError(.truncated, file: name, "truncated PNG data (\(size) bytes, libpng: \(m))")
        case let m where m.contains("CRC error"):
            return ImageError(.corrupt, file: name, "corrupt PNG data (checksum mismatch; libpng: \(m))")
        case let m where m.contains("too large") || m.contains("exceeds"):
            return ImageError(.tooLarge, file: name, "PNG image too large (libpng: \(m))")
        default:
            return ImageError(.corrupt, file: name, "corrupt PNG data (libpng: \(message))")
        }
    }

    private static func bigEndian32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }
}
