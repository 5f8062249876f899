import CZlib

/// A PNG file being written into a buffer allocated in advance: the signature, then chunks, each
/// framed as length (4 bytes, big-endian), type (4 ASCII bytes), data, and the CRC-32 of type and data.
///
/// Chunk data is either given whole (`appendChunk`) or written by someone else — deflate — straight into
/// `freeSpace` between `beginChunk` and `endChunk`. Never writes past the buffer: callers size it.
struct PNGChunkBuffer {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Bytes a chunk adds around its data: length, type and CRC.
    static let chunkOverhead = 12

    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0
    /// Where the open chunk (from `beginChunk`) starts, or `nil`.
    private var openChunk: Int?

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// Where the next byte goes, and how many bytes remain.
    var freeSpace: (start: UnsafeMutablePointer<UInt8>, count: Int) {
        (buffer.baseAddress! + count, buffer.count - count)
    }

    mutating func append(_ bytes: [UInt8]) {
        precondition(bytes.count <= buffer.count - count, "PNG buffer too small")
        for byte in bytes { buffer[count] = byte; count += 1 }
    }

    /// A whole chunk of `type` holding `data`. Cost: one CRC pass over the data.
    mutating func appendChunk(_ type: String, _ data: [UInt8]) {
        beginChunk(type)
        append(data)
        endChunk()
    }

    /// Starts a chunk of `type` (four ASCII letters) whose data follows at `freeSpace`.
    mutating func beginChunk(_ type: String) {
        precondition(openChunk == nil && type.utf8.count == 4)
        openChunk = count
        append([0, 0, 0, 0] + Array(type.utf8))
    }

    /// Counts `n` bytes written at `freeSpace` as part of the open chunk.
    mutating func advance(by n: Int) {
        precondition(openChunk != nil && n <= buffer.count - count)
        count += n
    }

    /// Length of the open chunk's data so far.
    var openChunkLength: Int { openChunk.map { count - $0 - 8 } ?? 0 }

    /// Closes the open chunk: fills in its length and appends its CRC. Cost: one CRC pass over the data.
    mutating func endChunk() {
        guard let start = openChunk else { preconditionFailure("no open chunk") }
        openChunk = nil
        let length = count - start - 8
        precondition(length <= Int(Int32.max), "PNG chunk longer than 2³¹ − 1 bytes")
        putBigEndian(UInt32(length), at: start)
        // CRC-32 over type and data; zlib takes at most 4 GiB per call, which the length check ensures.
        let crc = crc32(0, buffer.baseAddress! + start + 4, UInt32(length + 4))
        append([0, 0, 0, 0])
        putBigEndian(UInt32(crc), at: count - 4)
    }

    private func putBigEndian(_ value: UInt32, at offset: Int) {
        buffer[offset] = UInt8(value >> 24)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        buffer[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        buffer[offset + 3] = UInt8(truncatingIfNeeded: value)
    }
}
