import Foundation

/// Decoded tiles of a slide kept between region reads, so that regions which overlap (a slide analysed
/// in tiles reads each tile's core with a margin of about one cell into its neighbours) decode each
/// stored tile about once instead of up to four times.
///
/// **Eviction.** When the bytes held exceed `capacity`, tiles are dropped topmost row first (then least
/// recently used): read in reading order, tiles above the current regions are never needed again,
/// while the rows a region's bottom margin and last core row decoded are needed by the next row of
/// regions. So reusing every tile a raster pass over a slide decodes needs two to three rows of
/// stored tiles across the slide. Regions read in any other order still reuse what is held, with no
/// other cost.
///
/// **Threads.** Thread-safe. A tile being decoded by one thread is waited for by another that needs it
/// rather than decoded twice (two threads reading neighbouring regions meet on their shared tiles).
/// A failed decode is not kept: each thread that wanted it then gets the failure of its own attempt.
///
/// Memory: at most `capacity` bytes of tiles, plus the tiles being decoded and the one just inserted.
final class DecodedTileCache: @unchecked Sendable {
    struct Key: Hashable {
        var level: Int
        var column: Int
        var row: Int
    }

    private final class Entry {
        /// Nil while being decoded.
        var bytes: [UInt8]?
        var lastUse: UInt64 = 0
    }

    let capacity: Int
    private let condition = NSCondition()
    private var entries: [Key: Entry] = [:]
    private var held = 0
    private var clock: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Number of bytes of tiles held now.
    var heldBytes: Int { condition.withLock { held } }

    /// The decoded bytes of the tile at `key`: from the cache, or from `decode` (run without the lock;
    /// on failure it returns the reason, nothing is kept and the reason is returned). Cost: a dictionary
    /// lookup, plus an O(tiles held) scan when something must be evicted.
    func bytes(_ key: Key, decode: () -> Result<[UInt8], DecodeFailure>) -> Result<[UInt8], DecodeFailure> {
        condition.lock()
        while let entry = entries[key] {
            if let bytes = entry.bytes {
                clock += 1
                entry.lastUse = clock
                condition.unlock()
                return .success(bytes)
            }
            condition.wait()   // another thread is decoding it
        }
        let placeholder = Entry()
        entries[key] = placeholder
        condition.unlock()

        let result = decode()

        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        switch result {
        case .success(let bytes):
            clock += 1
            placeholder.bytes = bytes
            placeholder.lastUse = clock
            held += bytes.count
            evict(keeping: key)
        case .failure:
            entries[key] = nil
        }
        return result
    }

    /// Drops decoded tiles, topmost row first, then least recently used, until `held ≤ capacity`
    /// (never `kept`, the tile just inserted). Called with the lock held.
    private func evict(keeping kept: Key) {
        guard held > capacity else { return }
        var victims = entries.filter { $0.key != kept && $0.value.bytes != nil }
            .map { (key: $0.key, lastUse: $0.value.lastUse) }
        victims.sort { ($0.key.row, $0.lastUse) < ($1.key.row, $1.lastUse) }
        for victim in victims {
            guard held > capacity else { return }
            held -= entries[victim.key]?.bytes?.count ?? 0
            entries[victim.key] = nil
        }
    }

    /// Why a tile could not be decoded (one line, as the reader reports it).
    struct DecodeFailure: Error {
        var what: String
    }
}
