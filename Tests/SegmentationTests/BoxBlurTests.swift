import Testing
import Segmentation

@Suite struct BoxBlurTests {
    /// The mean over the window clipped at the edges, summed directly.
    static func naiveBoxBlur(_ plane: Plane, radius: Int) -> Plane {
        var out = Plane(width: plane.width, height: plane.height)
        for y in 0..<plane.height {
            for x in 0..<plane.width {
                var sum = 0.0, n = 0
                for wy in max(0, y - radius)...min(plane.height - 1, y + radius) {
                    for wx in max(0, x - radius)...min(plane.width - 1, x + radius) {
                        sum += Double(plane[wx, wy]); n += 1
                    }
                }
                out[x, y] = Float(sum / Double(n))
            }
        }
        return out
    }

    @Test(arguments: [1, 2, 3, 7, 40])
    func matchesNaiveWindowMean(radius: Int) {
        var rng = SeededGenerator(seed: UInt64(radius))
        for (width, height) in [(1, 1), (1, 9), (9, 1), (17, 12), (33, 21)] {
            let plane = Plane(width: width, height: height,
                              values: (0..<(width * height)).map { _ in Float.random(in: -1...1, using: &rng) })
            let fast = boxBlur(plane, radius: radius)
            let naive = Self.naiveBoxBlur(plane, radius: radius)
            let worst = zip(fast.values, naive.values).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(width)×\(height), radius \(radius)")
        }
    }

    @Test func radiusZeroIsIdentity() {
        let plane = Plane(width: 3, height: 2, values: [1, 2, 3, 4, 5, 6])
        #expect(boxBlur(plane, radius: 0) == plane)
    }

    @Test func constantPlaneStaysConstant() {
        let plane = Plane(width: 20, height: 15, repeating: 0.25)
        #expect(boxBlur(plane, radius: 4).values.allSatisfy { $0 == 0.25 })
    }
}
