import CDeflate
import CZlib

/// PNG writing directly on libdeflate and zlib: 8-bit RGB, non-interlaced, chunks IHDR, sRGB, IDAT (one
/// per MiB of compressed data) and IEND.
///
/// - `fast` (overlays, gallery pictures; `encodeWhole`): the first row unfiltered, every other row
///   filtered Up (the row above subtracted), the whole image deflated in one call by libdeflate at level 1:
///   20–24 ms for a 1280×960 field, where zlib's deflate alone needs at least 34 ms at any level-1
///   setting. Up is the cheapest filter that compresses well on IML fields (in BENCHMARKS.md's survey,
///   "Image codecs", Paeth makes files 11 % smaller for three times the filter time). Memory: about twice
///   the raw image (the filtered rows and libdeflate's worst-case output).
/// - otherwise (`deflateRows`): each row under the filter with the smallest sum of absolute residuals,
///   zlib deflate level 6 with `Z_FILTERED` (libpng's default setting): 13–15× slower, files 12–16 %
///   smaller. Rows are filtered and deflated in blocks of about 128 KiB, so the extra memory is that block
///   plus zlib's state (~270 KiB), besides the output, which is allocated once at zlib's worst-case bound.
enum PNGEncoder {
    /// Compressed bytes per IDAT chunk.
    static let idatLength = 1 << 20
    /// Filtered bytes handed to deflate per call.
    private static let blockLength = 1 << 17

    /// The PNG file for `image`; `name` is the file named in errors. Throws `.writeFailed` for a zero
    /// or oversized image, or if libdeflate or zlib fails. Cost: one filter pass and one deflate pass over
    /// `height · (1 + 3·width)` bytes, plus a CRC pass over the output.
    static func encode(_ image: RGBImage, fast: Bool, name: String) throws(ImageError) -> [UInt8] {
        let width = image.width, height = image.height
        guard width > 0, height > 0 else {
            throw ImageError(.writeFailed, file: name, "cannot encode a PNG of zero size (\(width)×\(height))")
        }
        // Keeps a filtered row's length within zlib's 32-bit counts and the sides within PNG's 2³¹ − 1.
        guard width <= Int(Int32.max) / 3, height <= Int(Int32.max) else {
            throw ImageError(.writeFailed, file: name, "cannot encode a PNG of \(width)×\(height): too large")
        }
        if fast { return try encodeWhole(image, name: name) }
        var stream = z_stream()
        let level: Int32 = 6, strategy = Z_FILTERED
        // deflateInit2 is a C macro. Window 2¹⁵, memory level 8: zlib's defaults (level 9 was no faster).
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15, 8, strategy, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ImageError(.writeFailed, file: name, "cannot encode PNG (zlib: cannot start deflate)")
        }
        defer { deflateEnd(&stream) }

        let rowBytes = 1 + 3 * width
        let deflated = Int(deflateBound(&stream, UInt(height * rowBytes)))
        let ihdrAndSRGB = 2 * PNGChunkBuffer.chunkOverhead + 13 + 1
        let capacity = PNGChunkBuffer.signature.count + ihdrAndSRGB + deflated
            + PNGChunkBuffer.chunkOverhead * (deflated / idatLength + 2)  // IDATs and IEND
        var status = Z_OK
        let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var out = PNGChunkBuffer(buffer)
            out.append(PNGChunkBuffer.signature)
            out.appendChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height))
                                    + [8, 2, 0, 0, 0])  // 8 bits, RGB, deflate, adaptive filtering, no interlace
            out.appendChunk("sRGB", [0])  // perceptual rendering intent
            status = image.pixels.withUnsafeBufferPointer { pixels in
                deflateRows(pixels.baseAddress!, width: width, height: height, stream: &stream, into: &out)
            }
            if status == Z_STREAM_END { out.appendChunk("IEND", []) }
            initialized = out.count
        }
        guard status == Z_STREAM_END else {
            let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
            throw ImageError(.writeFailed, file: name, "cannot encode PNG (zlib: \(reason))")
        }
        return bytes
    }

    /// The fast path: every row under the Up filter (the first under None) into one buffer, deflated
    /// in one call by libdeflate at level 1. The same rows under zlib level 1 `Z_RLE`, streamed, took
    /// 33–44 ms per 1280×960 field instead of 20–24, for files 2 % smaller (PA171690). Memory: twice the raw
    /// image.
    private static func encodeWhole(_ image: RGBImage, name: String) throws(ImageError) -> [UInt8] {
        let width = image.width, height = image.height
        let rowLength = 3 * width, rowBytes = 1 + rowLength, raw = height * rowBytes
        var filtered = [UInt8](repeating: 0, count: raw)
        image.pixels.withUnsafeBufferPointer { pixels in
            filtered.withUnsafeMutableBufferPointer { out in
                let base = pixels.baseAddress!, dst = out.baseAddress!
                dst[0] = PNGRowFilter.none
                (dst + 1).update(from: base, count: rowLength)
                for y in 1..<height {
                    PNGRowFilter.filterUp(base + y * rowLength, above: base + (y - 1) * rowLength, count: rowLength,
                                          into: dst + y * rowBytes)
                }
            }
        }
        guard let compressor = libdeflate_alloc_compressor(1) else {
            throw ImageError(.writeFailed, file: name, "cannot encode PNG (libdeflate: out of memory)")
        }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_zlib_compress_bound(compressor, raw)
        var deflated = [UInt8](repeating: 0, count: bound)
        let length = filtered.withUnsafeBytes { src in
            deflated.withUnsafeMutableBytes { dst in
                libdeflate_zlib_compress(compressor, src.baseAddress, raw, dst.baseAddress, bound)
            }
        }
        guard length > 0 else { throw ImageError(.writeFailed, file: name, "cannot encode PNG (libdeflate failed)") }
        let capacity = PNGChunkBuffer.signature.count + 2 * PNGChunkBuffer.chunkOverhead + 14 + length
            + PNGChunkBuffer.chunkOverhead * (length / idatLength + 2)
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var out = PNGChunkBuffer(buffer)
            out.append(PNGChunkBuffer.signature)
            out.appendChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
            out.appendChunk("sRGB", [0])
            for start in stride(from: 0, to: length, by: idatLength) {
                out.appendChunk("IDAT", Array(deflated[start..<min(length, start + idatLength)]))
            }
            out.appendChunk("IEND", [])
            initialized = out.count
        }
    }

    /// The small path: filters the image's rows adaptively, block by block, and deflates them with
    /// `stream` into IDAT chunks of at most `idatLength` bytes. Returns `Z_STREAM_END` on success, else
    /// zlib's status (`Z_BUF_ERROR` if `out` is full).
    private static func deflateRows(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                                    stream: inout z_stream, into out: inout PNGChunkBuffer) -> Int32 {
        let rowLength = 3 * width, rowBytes = 1 + rowLength
        let rowsPerBlock = min(height, max(1, blockLength / rowBytes))
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: rowsPerBlock * rowBytes)
        let zeros = UnsafeMutablePointer<UInt8>.allocate(capacity: rowLength)
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * rowLength)
        zeros.initialize(repeating: 0, count: rowLength)
        defer { block.deallocate(); zeros.deallocate(); scratch.deallocate() }

        out.beginChunk("IDAT")
        for first in stride(from: 0, to: height, by: rowsPerBlock) {
            let rows = min(rowsPerBlock, height - first)
            for r in 0..<rows {
                let y = first + r
                let row = pixels + y * rowLength, above = y > 0 ? row - rowLength : UnsafePointer(zeros)
                PNGRowFilter.filterAdaptive(row, above: above, count: rowLength, scratch: scratch, into: block + r * rowBytes)
            }
            stream.next_in = block
            stream.avail_in = UInt32(rows * rowBytes)
            let flush = first + rows == height ? Z_FINISH : Z_NO_FLUSH
            // Until deflate has taken the whole block (and, at the end, written everything out).
            while true {
                if out.openChunkLength == idatLength {
                    out.endChunk()
                    out.beginChunk("IDAT")
                }
                let space = out.freeSpace
                let room = min(idatLength - out.openChunkLength, space.count - 4 - PNGChunkBuffer.chunkOverhead)
                guard room > 0 else { return Z_BUF_ERROR }
                stream.next_out = space.start
                stream.avail_out = UInt32(room)
                let status = deflate(&stream, flush)
                out.advance(by: room - Int(stream.avail_out))
                if status == Z_STREAM_END { out.endChunk(); return status }
                guard status == Z_OK else { return status }
                if flush == Z_NO_FLUSH && stream.avail_in == 0 { break }
            }
        }
        return Z_STREAM_ERROR  // unreachable: the last block ends the stream
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value)]
    }
}
