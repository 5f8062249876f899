/// Small files built byte by byte, for headers no library would write (zero or huge dimensions).
enum HandmadeFiles {
    /// A little-endian, uncompressed, 8-bit grey TIFF with one strip and IFD0 before the pixel data, which
    /// is `data` (the strip byte count still claims `width·height`, capped at 2³²−1).
    static func greyTIFF(width: UInt32, height: UInt32, data: [UInt8]) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] { u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
        let entryCount = 9
        let dataOffset = UInt32(8 + 2 + entryCount * 12 + 4)
        let byteCount = UInt32(min(UInt64(width) * UInt64(height), UInt64(UInt32.max)))
        func short(_ tag: UInt16, _ value: UInt16) -> [UInt8] { u16(tag) + u16(3) + u32(1) + u16(value) + [0, 0] }
        func long(_ tag: UInt16, _ value: UInt32) -> [UInt8] { u16(tag) + u16(4) + u32(1) + u32(value) }
        var bytes: [UInt8] = [0x49, 0x49, 42, 0] + u32(8) + u16(UInt16(entryCount))
        bytes += long(256, width) + long(257, height)           // ImageWidth, ImageLength
        bytes += short(258, 8) + short(259, 1) + short(262, 1)  // BitsPerSample, Compression none, BlackIsZero
        bytes += long(273, dataOffset) + short(277, 1)          // StripOffsets, SamplesPerPixel
        bytes += long(278, height) + long(279, byteCount)       // RowsPerStrip, StripByteCounts
        bytes += u32(0)                                         // no next IFD
        return bytes + data
    }

    /// `png` with its IHDR width and height replaced and the chunk's CRC recomputed.
    static func png(_ png: [UInt8], width: UInt32, height: UInt32) -> [UInt8] {
        var bytes = png
        for (offset, value) in [(16, width), (20, height)] {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * i)) }
        }
        let crc = crc32(bytes[12..<29])  // chunk type + data
        for i in 0..<4 { bytes[29 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
        return bytes
    }

    /// `jpeg` with the height and width in its first SOF0/SOF2 header replaced.
    static func jpeg(_ jpeg: [UInt8], width: UInt16, height: UInt16) -> [UInt8] {
        var bytes = jpeg
        let sof = (2..<(bytes.count - 9)).first { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }!
        bytes[sof + 5] = UInt8(height >> 8); bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8); bytes[sof + 8] = UInt8(width & 0xFF)
        return bytes
    }

    /// CRC-32 (ISO-HDLC, as PNG uses it).
    static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
