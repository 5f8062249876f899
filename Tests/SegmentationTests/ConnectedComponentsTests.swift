import Testing
import Segmentation

@Suite struct ConnectedComponentsTests {
    static let sizes = [(1, 1), (1, 23), (23, 1), (7, 5), (31, 17), (64, 48)]
    static let densities = [0.05, 0.3, 0.5, 0.6, 0.8, 0.97]

    @Test(arguments: [true, false])
    func matchesReferenceOnRandomImages(eightConnected: Bool) {
        var seed: UInt64 = eightConnected ? 1000 : 2000
        for (width, height) in Self.sizes {
            for density in Self.densities {
                for _ in 0..<4 {
                    seed += 1
                    let image = TestImages.random(width: width, height: height, density: density, seed: seed)
                    let fast = connectedComponents(image, eightConnected: eightConnected)
                    let reference = connectedComponentsReference(image, eightConnected: eightConnected)
                    #expect(fast == reference, "seed \(seed), \(width)×\(height), density \(density)")
                }
            }
        }
    }

    @Test func diagonalNeighboursJoinOnlyWithEightConnectivity() {
        let image = TestImages.binary([
            "#..",
            ".#.",
            "..#",
        ])
        #expect(connectedComponents(image, eightConnected: true).count == 1)
        let four = connectedComponents(image, eightConnected: false)
        #expect(four.count == 3)
        #expect(four.labels == [1, 0, 0, 0, 2, 0, 0, 0, 3])
    }

    @Test func antiDiagonalTouchIsOneOrTwoComponents() {
        let image = TestImages.binary([
            ".#",
            "#.",
        ])
        #expect(connectedComponents(image, eightConnected: true).labels == [0, 1, 1, 0])
        #expect(connectedComponents(image, eightConnected: false).labels == [0, 1, 2, 0])
    }

    @Test(arguments: [true, false])
    func emptyImageHasNoComponents(eightConnected: Bool) {
        let labels = connectedComponents(BinaryImage(width: 9, height: 4), eightConnected: eightConnected)
        #expect(labels.count == 0)
        #expect(labels.labels.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [true, false])
    func fullImageIsOneComponent(eightConnected: Bool) {
        let full = BinaryImage(width: 9, height: 4, bits: [UInt8](repeating: 1, count: 36))
        let labels = connectedComponents(full, eightConnected: eightConnected)
        #expect(labels.count == 1)
        #expect(labels.labels.allSatisfy { $0 == 1 })
    }

    @Test func singleRowAndColumnCountRuns() {
        let row = TestImages.binary(["##.#..###.#"])
        #expect(connectedComponents(row).labels == [1, 1, 0, 2, 0, 0, 3, 3, 3, 0, 4])
        let column = BinaryImage(width: 1, height: row.width, bits: row.bits)
        #expect(connectedComponents(column, eightConnected: false).labels == [1, 1, 0, 2, 0, 0, 3, 3, 3, 0, 4])
    }

    @Test func labelsFollowRasterOrderOfFirstPixel() {
        // The U's right arm starts first in raster order only if labels are renumbered after merging.
        let image = TestImages.binary([
            "#.#.#",
            "#.#..",
            "###.#",
        ])
        let labels = connectedComponents(image, eightConnected: false)
        #expect(labels.count == 3)
        #expect(labels.labels == [1, 0, 1, 0, 2,
                                  1, 0, 1, 0, 0,
                                  1, 1, 1, 0, 3])
    }
}
