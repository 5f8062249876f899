import COpenBLAS
import Dispatch
import Foundation

/// Splits batched work across the machine's cores.
///
/// The engine runs OpenBLAS single-threaded and parallelises over the samples of a batch itself (each
/// thread runs its own GEMMs on its own slice), which also parallelises the im2col, pooling and
/// elementwise loops that a threaded BLAS would leave on one core.
public enum Parallel {
    /// Number of worker threads used by every layer (default: the active processor count).
    /// Set it before running passes, not while one runs. Changing it changes the summation order of
    /// gradients, hence the last bits of training results.
    public static var threads: Int {
        get { configuration.threads }
        set { configuration.threads = max(1, newValue) }
    }

    private final class Configuration: @unchecked Sendable {
        var threads: Int
        init() {
            BLASRuntime.configure()
            threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
    }
    private static let configuration = Configuration()

    /// The OpenBLAS kernel family in use (after `BLASRuntime.configure`), for benchmark reports.
    public static var blasCore: String { _ = configuration; return BLASRuntime.coreName }

    /// The `index`-th of `parts` near-equal contiguous slices of `0..<count`.
    @inline(__always)
    static func slice(_ count: Int, _ parts: Int, _ index: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let lower = index * base + min(index, extra)
        return lower ..< lower + base + (index < extra ? 1 : 0)
    }

    /// Calls `body(range, worker)` for the chunks `[i·chunk, (i+1)·chunk) ∩ 0..<count`, on up to `threads`
    /// workers that each take the next unclaimed chunk until none is left. A worker index is used by one
    /// thread at a time. Which worker runs which chunk varies from run to run, so use it only where results
    /// do not depend on it (inference); on a shared machine a descheduled worker then delays the pass by one
    /// chunk instead of by its whole fixed slice.
    public static func forEachChunk(_ count: Int, chunk: Int, _ body: (Range<Int>, Int) -> Void) {
        let chunks = (count + chunk - 1) / max(chunk, 1)
        let workers = min(threads, chunks)
        if workers <= 1 {
            for i in 0 ..< chunks { body(i * chunk ..< min(count, (i + 1) * chunk), 0) }
            return
        }
        let next = ChunkCounter()
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let work = escaping
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while true {
                    let i = next.claim()
                    if i >= chunks { break }
                    work(i * chunk ..< min(count, (i + 1) * chunk), worker)
                }
            }
        }
    }

    private final class ChunkCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func claim() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
    }

    /// `forEachSlice` for elementwise work: one thread unless every thread gets at least `minimumPerThread`
    /// elements (waking a worker costs more than a small loop).
    public static func forEachSlice(_ count: Int, minimumPerThread: Int, _ body: (Range<Int>, Int) -> Void) {
        if count < 2 * minimumPerThread { if count > 0 { body(0 ..< count, 0) }; return }
        forEachSlice(count, body)
    }

    /// Calls `body(range, thread)` for up to `threads` contiguous slices of `0..<count`, concurrently.
    /// Slices are fixed by `count` and `threads`, so results are deterministic for a given thread count.
    public static func forEachSlice(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        let parts = min(threads, count)
        if parts <= 1 { if count > 0 { body(0 ..< count, 0) }; return }
        // The slices are disjoint; the caller's closure is only run while this call lasts.
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let work = escaping
            DispatchQueue.concurrentPerform(iterations: parts) { t in work(slice(count, parts, t), t) }
        }
    }
}
