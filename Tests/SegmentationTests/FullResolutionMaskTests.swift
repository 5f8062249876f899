@testable import Segmentation
import Testing

/// Masks mapped from the working scale back to full resolution (`WorkingLabels.objects`) against the
/// plain per-pixel interpolation they were first written as, on random label images: the same objects,
/// boxes and bits, for shrink factors 1–6 and full sizes that the factor does or does not divide.
@Suite struct FullResolutionMaskTests {
    /// The reference: every full-resolution pixel of an object's box, bilinear membership ≥ ½.
    static func reference(_ labels: LabelImage, factor: Int, fullWidth: Int, fullHeight: Int) -> [(x: Int, y: Int, w: Int, h: Int, bits: [UInt8])] {
        let w = labels.width, h = labels.height
        func grid(_ n: Int) -> ([Int], [Float]) {
            var cell = [Int](repeating: 0, count: n), weight = [Float](repeating: 0, count: n)
            for i in 0..<n {
                let v = (Float(i) + 0.5) / Float(factor) - 0.5
                cell[i] = Int(v + 1) - 1
                weight[i] = v - Float(cell[i])
            }
            return (cell, weight)
        }
        let (col0, colT) = grid(fullWidth), (row0, rowT) = grid(fullHeight)
        let regions = RegionProperties(labels)
        var result: [(x: Int, y: Int, w: Int, h: Int, bits: [UInt8])] = []
        for l in 1..<(labels.count + 1) where regions[l].area > 0 {
            var inside: [(Int, Int)] = []
            for fy in (regions[l].y0 * factor)..<min(fullHeight, (regions[l].y1 + 1) * factor) {
                for fx in (regions[l].x0 * factor)..<min(fullWidth, (regions[l].x1 + 1) * factor) {
                    let ix = col0[fx], iy = row0[fy], tx = colT[fx], ty = rowT[fy]
                    func member(_ x: Int, _ y: Int) -> Float {
                        labels.labels[min(h - 1, max(0, y)) * w + min(w - 1, max(0, x))] == Int32(l) ? 1 : 0
                    }
                    let a = member(ix, iy), b = member(ix + 1, iy), c = member(ix, iy + 1), d = member(ix + 1, iy + 1)
                    if (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty >= 0.5 { inside.append((fx, fy)) }
                }
            }
            guard !inside.isEmpty else { continue }
            let x0 = inside.map(\.0).min()!, x1 = inside.map(\.0).max()!, y0 = inside.map(\.1).min()!, y1 = inside.map(\.1).max()!
            var bits = [UInt8](repeating: 0, count: (x1 - x0 + 1) * (y1 - y0 + 1))
            for (x, y) in inside { bits[(y - y0) * (x1 - x0 + 1) + (x - x0)] = 1 }
            result.append((x0, y0, x1 - x0 + 1, y1 - y0 + 1, bits))
        }
        return result
    }

    @Test func theFastMappingGivesThePlainOnesMasks() {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<60 {
            let factor = 1 + trial % 6
            let w = Int.random(in: 3...24, using: &rng), h = Int.random(in: 3...24, using: &rng)
            // Blobs: a few random discs of labels over a background, so objects touch and interleave.
            var values = [Int32](repeating: 0, count: w * h)
            let count = Int.random(in: 1...6, using: &rng)
            for l in 1...count {
                let cx = Int.random(in: 0..<w, using: &rng), cy = Int.random(in: 0..<h, using: &rng), r = Int.random(in: 0...5, using: &rng)
                for y in 0..<h { for x in 0..<w where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r { values[y * w + x] = Int32(l) } }
            }
            let labels = LabelImage(width: w, height: h, labels: values, count: count)
            // Full sizes the factor divides, and up to factor − 1 pixels more (as a shrink rounds up).
            let fullWidth = max(1, w * factor - Int.random(in: 0..<factor, using: &rng))
            let fullHeight = max(1, h * factor - Int.random(in: 0..<factor, using: &rng))
            let working = CellSegmenter.WorkingLabels(labels: labels, status: [ObjectStatus](repeating: .counted, count: count + 1),
                                                      regions: RegionProperties(labels), outline: (nil, nil), stain: nil)
            let fast = working.objects(factor: factor, fullWidth: fullWidth, fullHeight: fullHeight, diameter: 1e9)
                .sorted { ($0.y, $0.x, $0.area) < ($1.y, $1.x, $1.area) }
            let plain = Self.reference(labels, factor: factor, fullWidth: fullWidth, fullHeight: fullHeight)
                .sorted { ($0.y, $0.x, $0.bits.filter { $0 != 0 }.count) < ($1.y, $1.x, $1.bits.filter { $0 != 0 }.count) }
            #expect(fast.count == plain.count, "factor \(factor)")
            for (a, b) in zip(fast, plain) {
                #expect(a.x == b.x && a.y == b.y && a.width == b.w && a.height == b.h && a.mask.bits == b.bits, "factor \(factor)")
            }
        }
    }
}
