import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PNG reading through libpng's simplified API (`png_image_*`), which needs no `setjmp`.
///
/// Handles every PNG colour type and bit depth (1–16 bits; grey, grey+alpha, RGB, RGBA, palette, tRNS)
/// and Adam7 interlacing. 16-bit samples without colour-space chunks are taken as sRGB-encoded
/// (`PNG_IMAGE_FLAG_16BIT_sRGB`) and scaled to 8 bits (round(v·255/65535)); grey is replicated.
/// **Alpha is composited onto white** (the colour of an empty bright-field background), in linear light
/// as libpng does it (sRGB approximated by a 2.2 power law), so a transparent pixel reads as (255, 255, 255).
/// Data cut off after the last image row (a missing IEND chunk) still decodes: every pixel is present.
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> RGBImage {
        let header = Header(bytes)
        // libpng reports a zero width or height, and one beyond its default limit of 1,000,000 per side, as
        // a generic "Invalid IHDR data"; say what is wrong.
        if let header, header.width == 0 || header.height == 0 {
            throw ImageError(.zeroSized, file: name, "PNG image has zero size (\(header.width)×\(header.height))")
        }
        if let header, max(header.width, header.height) > 1_000_000, max(header.width, header.height) <= Int32.max {
            throw ImageError(.tooLarge, file: name,
                             "dimensions \(header.width)×\(header.height) exceed libpng's limit of 1000000 pixels per side")
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
        if let header, header.bitDepth == 16, header.interlaced {
            return try readInterlaced16(&image, width: width, height: height, name: name, size: bytes.count)
        }
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

    /// libpng 1.6.39's simplified reader scales Adam7-interlaced 16-bit rows to 8 bits wrongly (it merges
    /// the passes into a stale row buffer; pnggroup/libpng#853), while its linear 16-bit output is right.
    /// So read linear, premultiplied RGBA and do the compositing and sRGB encoding here.
    /// Results agree with the non-interlaced path to within 1. Extra memory: 8 bytes per pixel.
    private static func readInterlaced16(_ image: inout png_image, width: Int, height: Int,
                                         name: String, size: Int) throws(ImageError) -> RGBImage {
        image.format = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        let count = width * height
        var linear = [UInt16](repeating: 0, count: count * 4)
        let ok = png_image_finish_read(&image, nil, &linear, Int32(width * 4), nil)
        guard ok != 0 else { throw error(from: &image, name: name, size: size) }
        let encode = linearToSRGB
        let pixels = [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            linear.withUnsafeBufferPointer { source in
                for i in 0..<count {
                    let uncovered = 65535 - Int(source[4 * i + 3])  // premultiplied: add the white behind
                    for c in 0..<3 { out[3 * i + c] = encode[min(65535, Int(source[4 * i + c]) + uncovered)] }
                }
            }
            initialized = count * 3
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Linear 16-bit → 8-bit sRGB as libpng's simplified API models sRGB (a 2.2 power law), built once.
    private static let linearToSRGB: [UInt8] = (0...65535).map { (v: Int) -> UInt8 in
        let encoded: Double = pow(Double(v) / 65535, 1 / 2.2)
        return UInt8((255 * encoded).rounded())
    }

    /// The IHDR fields this decoder needs, read directly from the bytes (nil if they are too short or the
    /// first chunk is not IHDR; libpng then reports the problem).
    private struct Header {
        let width: UInt32, height: UInt32, bitDepth: UInt8, interlaced: Bool

        init?(_ bytes: UnsafeRawBufferPointer) {
            // Signature (8), chunk length (4), "IHDR" (4), width, height, depth, colour type,
            // compression, filter, interlace.
            guard bytes.count >= 29, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
            func bigEndian32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[at + $1]) } }
            width = bigEndian32(16)
            height = bigEndian32(20)
            bitDepth = bytes[24]
            interlaced = bytes[28] == 1
        }
    }

    /// Turns libpng's message into an `ImageError` and releases libpng's state.
    private static func error(from image: inout png_image, name: String, size: Int) -> ImageError {
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }.oneLine
        png_image_free(&image)
        switch message {
        case let m where m.contains("read beyond end of data") || m.contains("Not enough image data")
                || m.contains("Read Error"):
            return ImageError(.truncated, file: name, "truncated PNG data (\(size) bytes; libpng: \(m))")
        case let m where m.contains("CRC error"):
            return ImageError(.corrupt, file: name, "corrupt PNG data (checksum mismatch; libpng: \(m))")
        default:
            return ImageError(.corrupt, file: name, "corrupt PNG data (libpng: \(message))")
        }
    }
}
