import CZlib
import ImageCodecs

/// An independent, pngcheck-like reading of the PNG files `ImageCodecs.encodePNG` writes, sharing no code
/// with libpng or the encoder: checks the signature, the chunk sequence IHDR, sRGB, IDAT…, IEND, every
/// chunk's CRC-32 and the IHDR fields, inflates the IDAT data with zlib (which checks its Adler-32) and
/// undoes the row filters.
struct PNGFileCheck {
    /// Chunk types in file order.
    var chunkTypes: [String] = []
    /// Length of each IDAT chunk's data.
    var idatLengths: [Int] = []
    /// The filter type of each row.
    var filterTypes: [UInt8] = []
    /// The decoded pixels.
    var image: RGBImage

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(_ bytes: [UInt8]) throws {
        func fail(_ message: String) -> Failure { Failure(description: message) }
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw fail("bad signature") }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        var offset = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw fail("truncated chunk header at \(offset)") }
            let length = u32(offset)
            guard length < 1 << 31, offset + 12 + length <= bytes.count else { throw fail("bad chunk length \(length)") }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + offset + 4, UInt32(length + 4)) }
            guard crc == UInt(u32(offset + 8 + length)) else { throw fail("CRC mismatch in \(type)") }
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            chunkTypes.append(type)
            switch type {
            case "IHDR": header = data
            case "IDAT": compressed += data; idatLengths.append(length)
            case "sRGB": guard data == [0] else { throw fail("unexpected sRGB intent \(data)") }
            case "IEND": guard length == 0 else { throw fail("IEND with data") }
            default: throw fail("unexpected chunk \(type)")
            }
            offset += 12 + length
        }
        let idats = chunkTypes.filter { $0 == "IDAT" }.count
        guard chunkTypes == ["IHDR", "sRGB"] + Array(repeating: "IDAT", count: idats) + ["IEND"], idats > 0 else {
            throw fail("chunk sequence \(chunkTypes)")
        }
        guard header.count == 13, Array(header[8...]) == [8, 2, 0, 0, 0] else { throw fail("IHDR \(header)") }
        let width = (0..<4).reduce(0) { $0 << 8 | Int(header[$1]) }
        let height = (4..<8).reduce(0) { $0 << 8 | Int(header[$1]) }
        guard width > 0, height > 0 else { throw fail("zero size") }

        let rowLength = 3 * width, rowBytes = 1 + rowLength
        var raw = [UInt8](repeating: 0, count: height * rowBytes + 1)  // one spare byte catches extra data
        var rawLength = UInt(raw.count)
        let status = uncompress(&raw, &rawLength, compressed, UInt(compressed.count))
        guard status == Z_OK, rawLength == UInt(height * rowBytes) else {
            throw fail("inflate: status \(status), \(rawLength) bytes for \(height * rowBytes)")
        }
        var pixels = [UInt8](repeating: 0, count: height * rowLength)
        for y in 0..<height {
            let filter = raw[y * rowBytes]
            filterTypes.append(filter)
            for i in 0..<rowLength {
                let a = i >= 3 ? Int(pixels[y * rowLength + i - 3]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * rowLength + i]) : 0
                let c = i >= 3 && y > 0 ? Int(pixels[(y - 1) * rowLength + i - 3]) : 0
                let prediction: Int
                switch filter {
                case 0: prediction = 0
                case 1: prediction = a
                case 2: prediction = b
                case 3: prediction = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    prediction = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw fail("filter type \(filter) in row \(y)")
                }
                pixels[y * rowLength + i] = UInt8((Int(raw[y * rowBytes + 1 + i]) + prediction) & 0xFF)
            }
        }
        image = RGBImage(width: width, height: height, pixels: pixels)
    }
}
