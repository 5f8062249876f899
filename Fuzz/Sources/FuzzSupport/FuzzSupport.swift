import ImageCodecs

/// Helpers shared by the fuzz targets.
public enum FuzzSupport {
    /// Stops the process with `message` (a crash for libFuzzer) unless `condition` holds. Unlike
    /// `precondition`, keeps its message in release builds.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError(message()) }
    }

    /// Whether `message` is one line: no CR or LF among its Unicode scalars (CR LF is a single `Character`,
    /// equal to neither, so a `Character` search would miss it).
    public static func isOneLine(_ message: String) -> Bool {
        !message.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
    }

    /// The pixel limit the image targets decode with: 4 megapixels, so that the fuzzer explores the
    /// decoders rather than large allocations. Larger declared sizes must fail with `.tooLarge`.
    public static let maxPixels = 4_000_000

    /// `bytes` as given if they already start like `format`, else with their first `magic.count` bytes
    /// replaced by `magic` (a shorter input becomes `magic` alone), so that every input reaches the
    /// decoder of `format` instead of stopping at format detection.
    public static func forcing(_ format: ImageFormat, magic: [UInt8], onto bytes: [UInt8]) -> [UInt8] {
        if ImageCodecs.detectFormat(bytes) == format { return bytes }
        return magic + bytes.dropFirst(magic.count)
    }

    /// Decodes `bytes`, which must start like `format`, and checks what every decoder promises: the
    /// result has the size it claims, within `maxPixels`; a failure is one non-empty line naming the file.
    /// Traps (so that libFuzzer reports a crash) when a promise is broken.
    public static func checkDecode(_ bytes: [UInt8], format: ImageFormat?) {
        check(ImageCodecs.detectFormat(bytes) == format, "format detection changed its answer")
        do throws(ImageError) {
            let image = try ImageCodecs.decode(bytes, name: "fuzz-input", maxPixels: maxPixels)
            check(image.width > 0 && image.height > 0, "decoded an image of zero size")
            check(image.width * image.height <= maxPixels, "decoded an image over the pixel limit")
            check(image.pixels.count == 3 * image.width * image.height, "pixel buffer of the wrong size")
        } catch {
            let message = error.description
            check(message.hasPrefix("fuzz-input: ") && message.count > "fuzz-input: ".count,
                         "error does not name the file: \(message)")
            check(isOneLine(message), "error is not one line: \(message)")
        }
    }
}

extension FuzzSupport {
    /// CRC-32 (IEEE 802.3, as in zlib and the `.smnet` trailer) of `bytes`. Not generic, so that it is
    /// compiled for byte arrays here rather than run through protocol witnesses from another module.
    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        crcTable.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { input in
                for byte in input { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        return ~crc
    }

    /// `png` with the CRC of every complete chunk after the 8-byte signature recomputed, so that mutated
    /// chunk data reaches libpng's parsing instead of stopping at its checksum. Stops at the first chunk
    /// whose declared length runs past the end; bytes beyond it are left as they are.
    public static func fixingChunkCRCs(_ png: [UInt8]) -> [UInt8] {
        var bytes = png, at = 8
        while at + 12 <= bytes.count {
            let length = (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) }
            guard length <= bytes.count - at - 12 else { break }
            let crc = crc32(bytes[at + 4 ..< at + 8 + length])
            for i in 0..<4 { bytes[at + 8 + length + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
            at += 12 + length
        }
        return bytes
    }

    /// The CRC of each byte value, for `crc32`.
    private static let crcTable: [UInt32] = (0..<256).map { (value: UInt32) -> UInt32 in
        var crc = value
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }
}
