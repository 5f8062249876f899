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
            // Compared as multisets: two objects may share a box corner and an area, so no sort key
            // short of the whole mask orders both lists alike.
            func key(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ bits: [UInt8]) -> String {
                "\(x),\(y),\(w),\(h):" + bits.map { $0 != 0 ? "1" : "0" }.joined()
            }
            let fast = working.objects(factor: factor, fullWidth: fullWidth, fullHeight: fullHeight, diameter: 1e9)
                .map { key($0.x, $0.y, $0.width, $0.height, $0.mask.bits) }.sorted()
            let plain = Self.reference(labels, factor: factor, fullWidth: fullWidth, fullHeight: fullHeight)
                .map { key($0.x, $0.y, $0.w, $0.h, $0.bits) }.sorted()
            #expect(fast == plain, "factor \(factor)")
        }
    }
}
