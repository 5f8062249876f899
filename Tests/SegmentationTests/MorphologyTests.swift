import Testing
import Segmentation

@Suite struct MorphologyTests {
    // MARK: Naive disc morphology

    /// Set where some foreground pixel lies within the disc.
    static func naiveDilate(_ mask: BinaryImage, radius: Float) -> BinaryImage {
        let offsets = TestImages.discOffsets(radius: radius)
        var out = BinaryImage(width: mask.width, height: mask.height)
        for y in 0..<mask.height {
            for x in 0..<mask.width {
                out[x, y] = offsets.contains { dx, dy in
                    let nx = x + dx, ny = y + dy
                    return nx >= 0 && ny >= 0 && nx < mask.width && ny < mask.height && mask[nx, ny]
                }
            }
        }
        return out
    }

    /// Set where no background pixel of the image lies within the disc (outside counts as foreground).
    static func naiveErode(_ mask: BinaryImage, radius: Float) -> BinaryImage {
        let offsets = TestImages.discOffsets(radius: radius)
        var out = BinaryImage(width: mask.width, height: mask.height)
        for y in 0..<mask.height {
            for x in 0..<mask.width {
                out[x, y] = !offsets.contains { dx, dy in
                    let nx = x + dx, ny = y + dy
                    return nx >= 0 && ny >= 0 && nx < mask.width && ny < mask.height && !mask[nx, ny]
                }
            }
        }
        return out
    }

    static let radii: [Float] = [1, 1.5, 2.3, 4]

    @Test(arguments: radii)
    func morphologyMatchesNaiveDiscs(radius: Float) {
        var seed: UInt64 = 4000 + UInt64(radius * 10)
        for (width, height) in [(1, 1), (1, 12), (12, 1), (19, 14), (30, 23)] {
            for density in [0.03, 0.3, 0.7, 0.95] {
                seed += 1
                let mask = TestImages.random(width: width, height: height, density: density, seed: seed)
                let context = "seed \(seed), \(width)×\(height), density \(density), radius \(radius)"
                let dilated = Self.naiveDilate(mask, radius: radius)
                let eroded = Self.naiveErode(mask, radius: radius)
                #expect(dilate(mask, radius: radius) == dilated, "dilate, \(context)")
                #expect(erode(mask, radius: radius) == eroded, "erode, \(context)")
                #expect(open(mask, radius: radius) == Self.naiveDilate(eroded, radius: radius), "open, \(context)")
                #expect(close(mask, radius: radius) == Self.naiveErode(dilated, radius: radius), "close, \(context)")
            }
        }
    }

    @Test func emptyAndFullMasks() {
        let empty = BinaryImage(width: 6, height: 4)
        let full = BinaryImage(width: 6, height: 4, bits: [UInt8](repeating: 1, count: 24))
        #expect(dilate(empty, radius: 3) == empty)
        #expect(erode(empty, radius: 3) == empty)
        #expect(dilate(full, radius: 3) == full)
        #expect(erode(full, radius: 3) == full)  // the border does not erode
    }

    // MARK: Hole filling

    @Test func ringIsFilled() {
        let ring = TestImages.binary([
            ".......",
            ".#####.",
            ".#...#.",
            ".#...#.",
            ".#####.",
            ".......",
        ])
        let filled = TestImages.binary([
            ".......",
            ".#####.",
            ".#####.",
            ".#####.",
            ".#####.",
            ".......",
        ])
        #expect(fillHoles(ring) == filled)
        #expect(fillHoles(ring, maxArea: 6) == filled)
    }

    @Test func holeTouchingTheBorderIsKept() {
        let open = TestImages.binary([
            "#####",
            "#...#",
            "#...#",
            "##.##",
        ])
        #expect(fillHoles(open) == open)
    }

    @Test func holeLargerThanMaxAreaIsKept() {
        let ring = TestImages.binary([
            ".......",
            ".#####.",
            ".#...#.",
            ".#...#.",
            ".#####.",
            ".......",
        ])
        #expect(fillHoles(ring, maxArea: 5) == ring)
    }

    @Test func holesJoinedOnlyDiagonallyAreSeparate() {
        // Holes are 4-connected background: the two one-pixel holes are filled separately and each fits
        // maxArea 1, although they touch at a corner.
        let mask = TestImages.binary([
            "####",
            "#.##",
            "##.#",
            "####",
        ])
        #expect(fillHoles(mask, maxArea: 1).count == 16)
    }
}
