import Dispatch
import Foundation
@testable import Slides
import Testing

/// The decoded-tile cache: hits, eviction topmost row first, failures not kept, one decode per tile
/// when threads meet on it.
@Suite struct DecodedTileCacheTests {
    /// Counts decodes, from any thread.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }

    static func tile(_ key: DecodedTileCache.Key) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: key.row * 16 + key.column), count: 100)
    }

    @Test func aTileIsDecodedOnceWhileHeld() throws {
        let cache = DecodedTileCache(capacity: 1_000)
        let decodes = Counter()
        let key = DecodedTileCache.Key(level: 0, column: 2, row: 3)
        for _ in 0..<3 {
            let bytes = try cache.bytes(key) { decodes.add(); return .success(Self.tile(key)) }.get()
            #expect(bytes == Self.tile(key))
        }
        #expect(decodes.value == 1)
        #expect(cache.heldBytes == 100)
    }

    @Test func theTopmostRowsGoFirstWhenFull() throws {
        let cache = DecodedTileCache(capacity: 350)   // three tiles of 100 bytes
        let decodes = Counter()
        func read(_ column: Int, _ row: Int) {
            let key = DecodedTileCache.Key(level: 0, column: column, row: row)
            _ = cache.bytes(key) { decodes.add(); return .success(Self.tile(key)) }
        }
        read(0, 2); read(0, 0); read(1, 1)   // full
        read(0, 0)                            // a hit: most recently used, but topmost
        read(0, 3)                            // evicts row 0
        #expect(decodes.value == 4)
        #expect(cache.heldBytes == 300)
        read(1, 1); read(0, 2); read(0, 3)    // still held
        #expect(decodes.value == 4)
        read(0, 0)                            // decoded again
        #expect(decodes.value == 5)
    }

    @Test func aFailureIsNotKept() {
        let cache = DecodedTileCache(capacity: 1_000)
        let key = DecodedTileCache.Key(level: 1, column: 0, row: 0)
        let failed = cache.bytes(key) { .failure(.init(what: "cannot read tile (0, 0) of level 1")) }
        #expect((try? failed.get()) == nil)
        #expect(cache.heldBytes == 0)
        let retried = cache.bytes(key) { .success(Self.tile(key)) }
        #expect((try? retried.get()) == Self.tile(key))
    }

    @Test func threadsMeetingOnATileDecodeItOnce() {
        let cache = DecodedTileCache(capacity: 10_000)
        let decodes = Counter(), mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for j in 0..<20 {
                let key = DecodedTileCache.Key(level: 0, column: (i + j) % 5, row: j % 3)
                let bytes = try? cache.bytes(key) {
                    decodes.add()
                    usleep(2_000)   // long enough for others to ask for it meanwhile
                    return .success(Self.tile(key))
                }.get()
                if bytes != Self.tile(key) { mismatches.add() }
            }
        }
        #expect(mismatches.value == 0)
        #expect(decodes.value == 15)   // 5 columns × 3 rows, each once
    }
}
