import Testing
import Segmentation

@Suite struct ReconstructionTests {
    /// Greyscale reconstruction by repeated elementary dilation (3×3) clipped by the mask, until nothing
    /// changes.
    static func naiveReconstruction(marker: Plane, mask: Plane) -> Plane {
        let w = marker.width, h = marker.height
        var current = Plane(width: w, height: h, values: zip(marker.values, mask.values).map { min($0, $1) })
        while true {
            var next = current
            for y in 0..<h {
                for x in 0..<w {
                    var v = current[x, y]
                    for ny in max(0, y - 1)...min(h - 1, y + 1) {
                        for nx in max(0, x - 1)...min(w - 1, x + 1) { v = max(v, current[nx, ny]) }
                    }
                    next[x, y] = min(v, mask[x, y])
                }
            }
            if next == current { return current }
            current = next
        }
    }

    @Test func reconstructionMatchesNaiveIteration() {
        var seed: UInt64 = 5000
        for (width, height) in [(1, 1), (1, 15), (15, 1), (9, 7), (25, 18), (32, 32)] {
            for levels in [2, 4, 16] {
                for markerDensity in [0.01, 0.1, 0.5] {
                    seed += 1
                    var rng = SeededGenerator(seed: seed)
                    // Few grey levels make plateaus, where propagation order matters most.
                    let mask = Plane(width: width, height: height, values: (0..<(width * height)).map { _ in
                        Float(Int.random(in: 0..<levels, using: &rng)) / Float(levels)
                    })
                    let marker = Plane(width: width, height: height, values: mask.values.map { v in
                        Double.random(in: 0..<1, using: &rng) < markerDensity ? v : v - 0.5
                    })
                    let fast = reconstructByDilation(marker: marker, mask: mask)
                    let naive = Self.naiveReconstruction(marker: marker, mask: mask)
                    #expect(fast == naive, "seed \(seed), \(width)×\(height), \(levels) levels")
                }
            }
        }
    }

    /// Two bumps `peak − slope·distance` centred at (8, 8) and (24, 8) on a 33×17 grid, joined by a bridge
    /// along the row y = 8 whose lowest point (the saddle) has height `saddle`.
    static func twoPeaks(left: Float, right: Float, saddle: Float) -> Plane {
        var f = Plane(width: 33, height: 17)
        for y in 0..<17 {
            for x in 0..<33 {
                let dl = Float(((x - 8) * (x - 8) + (y - 8) * (y - 8))).squareRoot()
                let dr = Float(((x - 24) * (x - 24) + (y - 8) * (y - 8))).squareRoot()
                var v = max(0, left - 0.5 * dl, right - 0.5 * dr)
                if y == 8 { v = max(v, saddle) }  // the bridge
                f[x, y] = v
            }
        }
        return f
    }

    @Test(arguments: [(Float(10), Float(10)), (10, 9)])
    func deepSaddleGivesTwoMaxima(left: Float, right: Float) {
        let f = Self.twoPeaks(left: left, right: right, saddle: 4)
        let maxima = extendedMaxima(f, h: 2)
        #expect(maxima.count == 2)
        #expect(maxima.labels[8 * 33 + 8] != 0 && maxima.labels[8 * 33 + 24] != 0)
        #expect(maxima.labels[8 * 33 + 8] != maxima.labels[8 * 33 + 24])
    }

    @Test(arguments: [(Float(10), Float(10)), (10, 9.5)])
    func shallowSaddleGivesOneMaximum(left: Float, right: Float) {
        // The dip between the peaks, down to 9 (or 8.5 on the lower side's approach), is less than h = 2.
        let f = Self.twoPeaks(left: left, right: right, saddle: 8.5)
        let maxima = extendedMaxima(f, h: 2)
        #expect(maxima.count == 1)
        #expect(maxima.labels[8 * 33 + 8] == 1)
    }

    @Test func floorExcludesLowMaxima() {
        let f = Self.twoPeaks(left: 10, right: 5, saddle: 0)
        #expect(extendedMaxima(f, h: 1).count == 2)
        let high = extendedMaxima(f, h: 1, floor: 6)
        #expect(high.count == 1)
        #expect(high.labels[8 * 33 + 8] == 1 && high.labels[8 * 33 + 24] == 0)
    }

    @Test func plateauIsOneMaximum() {
        var f = Plane(width: 10, height: 6, repeating: 1)
        for y in 2...3 { for x in 2...7 { f[x, y] = 5 } }
        let maxima = extendedMaxima(f, h: 2)
        #expect(maxima.count == 1)
        #expect(maxima.labels.filter { $0 == 1 }.count == 12)
    }
}
