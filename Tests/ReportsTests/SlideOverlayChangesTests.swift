import Foundation
@testable import Reports
import Testing

/// `SlideOverlay.changes`, which finds the pixels an overlay drew on (8 bytes compared at a time),
/// against the plain pixel-by-pixel comparison, for every length up to 40 pixels and every start.
@Suite struct SlideOverlayChangesTests {
    @Test func theFastComparisonFindsExactlyThePixelsThatDiffer() {
        var rng = SystemRandomNumberGenerator()
        for total in 1...48 {
            for _ in 0..<20 {
                let a = (0..<(3 * total)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var b = a
                for p in 0..<total where Int.random(in: 0..<4, using: &rng) == 0 { b[3 * p + Int.random(in: 0..<3, using: &rng)] &+= 1 }
                let start = Int.random(in: 0..<total, using: &rng), pixels = Int.random(in: 0...(total - start), using: &rng)
                let plain = (0..<pixels).filter { p in (0..<3).contains { a[3 * (start + p) + $0] != b[3 * (start + p) + $0] } }
                var found: [Int] = []
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in SlideOverlay.changes(pa, pb, from: 3 * start, pixels: pixels) { found.append($0) } }
                }
                #expect(found == plain, "\(pixels) pixels from \(start)")
            }
        }
    }
}
