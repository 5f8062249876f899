import Testing
import Segmentation

@Suite struct DistanceTransformTests {
    @Test func matchesReferenceOnRandomImages() {
        var seed: UInt64 = 3000
        for (width, height) in [(1, 1), (1, 19), (19, 1), (6, 11), (24, 17), (40, 33)] {
            for density in [0.002, 0.02, 0.1, 0.5, 0.9] {
                seed += 1
                let sources = TestImages.random(width: width, height: height, density: density, seed: seed)
                let fast = squaredDistanceTransform(width: width, height: height) { sources.bits[$0] != 0 }
                let reference = squaredDistanceTransformReference(width: width, height: height) { sources.bits[$0] != 0 }
                #expect(fast == reference, "seed \(seed), \(width)×\(height), density \(density)")
            }
        }
    }

    @Test func withoutSourcesEverythingIsInfinite() {
        let d = squaredDistanceTransform(width: 7, height: 5) { _ in false }
        #expect(d.values.allSatisfy { $0 == .infinity })
    }

    @Test func singleSourceGivesSquaredEuclideanDistance() {
        let width = 13, height = 9, sx = 4, sy = 6
        let d = squaredDistanceTransform(width: width, height: height) { $0 == sy * width + sx }
        for y in 0..<height {
            for x in 0..<width {
                #expect(d[x, y] == Float((x - sx) * (x - sx) + (y - sy) * (y - sy)))
            }
        }
    }

    @Test func allSourcesGiveZero() {
        let d = squaredDistanceTransform(width: 5, height: 3) { _ in true }
        #expect(d.values.allSatisfy { $0 == 0 })
    }
}
