import Foundation
import Testing
import Segmentation

@Suite struct WatershedTests {
    static let radius = 15.0

    /// Splits the union of discs of `radius` around `centres` the way the segmenter does: markers are the
    /// extended maxima of the distance to the background, flooded on the negated distance.
    static func split(width: Int, height: Int, centres: [(Double, Double)]) -> (mask: BinaryImage, labels: LabelImage) {
        let mask = TestImages.discs(width: width, height: height, centres: centres, radius: radius)
        let squared = squaredDistanceTransform(width: width, height: height) { mask.bits[$0] == 0 }
        let distance = Plane(width: width, height: height, values: squared.values.map { $0.squareRoot() })
        let markers = extendedMaxima(distance, h: Float(0.12 * radius), floor: Float(0.3 * radius))
        let elevation = Plane(width: width, height: height, values: distance.values.map { -$0 })
        return (mask, watershed(elevation: elevation, markers: markers, mask: mask))
    }

    /// Checks that every mask pixel is labelled, that each centre's label is distinct, and that every pixel
    /// closer to one centre than to any other by more than `margin` px carries that centre's label.
    /// Returns the area of each centre's region.
    static func checkSplit(_ mask: BinaryImage, _ labels: LabelImage, centres: [(Double, Double)],
                           margin: Double = 3) -> [Int] {
        let owner = centres.map { Int(labels.labels[Int($0.1.rounded()) * labels.width + Int($0.0.rounded())]) }
        #expect(Set(owner).count == centres.count && !owner.contains(0), "centre labels \(owner)")
        var misplaced = 0
        for y in 0..<mask.height {
            for x in 0..<mask.width {
                let label = Int(labels.labels[y * mask.width + x])
                #expect(mask[x, y] == (label != 0), "(\(x), \(y)): mask \(mask[x, y]), label \(label)")
                guard mask[x, y] else { continue }
                let distances = centres.map { c in ((Double(x) - c.0) * (Double(x) - c.0) + (Double(y) - c.1) * (Double(y) - c.1)).squareRoot() }
                let sorted = distances.sorted()
                if sorted[1] - sorted[0] > margin, label != owner[distances.firstIndex(of: sorted[0])!] { misplaced += 1 }
            }
        }
        #expect(misplaced == 0)
        return owner.map { l in labels.labels.filter { Int($0) == l }.count }
    }

    /// Area of a disc of `radius` minus `caps` caps cut off by chords at `distance` from its centre.
    static func expectedArea(caps: Int, distance: Double) -> Double {
        let r = radius
        let cap = r * r * acos(distance / r) - distance * (r * r - distance * distance).squareRoot()
        return Double.pi * r * r - Double(caps) * cap
    }

    @Test func twoTouchingDiscsSplitInTwoEqualHalves() {
        let d = 1.4 * Self.radius
        let centres = [(25.0, 24.0), (25.0 + d, 24.0)]
        let (mask, labels) = Self.split(width: 72, height: 49, centres: centres)
        #expect(labels.count == 2)
        let areas = Self.checkSplit(mask, labels, centres: centres)
        #expect(abs(Double(areas[0]) / Double(areas[1]) - 1) <= 0.15, "areas \(areas)")
    }

    @Test func obliqueTouchingDiscsSplitInTwo() {
        let d = 1.4 * Self.radius, angle = 0.6
        let centres = [(22.0, 21.0), (22.0 + d * cos(angle), 21.0 + d * sin(angle))]
        let (mask, labels) = Self.split(width: 64, height: 56, centres: centres)
        #expect(labels.count == 2)
        let areas = Self.checkSplit(mask, labels, centres: centres)
        #expect(abs(Double(areas[0]) / Double(areas[1]) - 1) <= 0.15, "areas \(areas)")
    }

    @Test func chainOfThreeDiscsSplitsInThree() {
        let d = 1.4 * Self.radius
        let centres = [(20.0, 20.0), (20.0 + d, 20.0), (20.0 + 2 * d, 20.0)]
        let (mask, labels) = Self.split(width: 84, height: 41, centres: centres)
        #expect(labels.count == 3)
        let areas = Self.checkSplit(mask, labels, centres: centres)
        // The middle disc loses a cap on each side, the end discs one each.
        let expected = [1, 2, 1].map { Self.expectedArea(caps: $0, distance: d / 2) }
        for (area, want) in zip(areas, expected) { #expect(abs(Double(area) / want - 1) <= 0.15, "areas \(areas)") }
        #expect(abs(Double(areas[0]) / Double(areas[2]) - 1) <= 0.15, "areas \(areas)")
    }

    @Test func bentChainOfThreeDiscsSplitsInThree() {
        // Turning by 60° keeps the end discs apart (centre distance √3 · d > 2r).
        let d = 1.4 * Self.radius
        let b = (38.0, 20.0)
        let centres = [(b.0 - d, b.1), b, (b.0 + d / 2, b.1 + d * 3.0.squareRoot() / 2)]
        let (mask, labels) = Self.split(width: 72, height: 56, centres: centres)
        #expect(labels.count == 3)
        // On the inside of the bend the distance map near the rim rises straight away from the edge, across
        // the bisector, so there the divide follows flooding order and strays up to ~4 px from it.
        let areas = Self.checkSplit(mask, labels, centres: centres, margin: 5)
        let expected = [1, 2, 1].map { Self.expectedArea(caps: $0, distance: d / 2) }
        for (area, want) in zip(areas, expected) { #expect(abs(Double(area) / want - 1) <= 0.15, "areas \(areas)") }
    }

    @Test func heavilyOverlappingDiscsStayWhole() {
        // Centres 0.4·r apart: the distance map has two equal peaks with a pass only ~0.3 px lower, far
        // less than the 0.12·r split depth, so this is one (peanut-shaped) object.
        let centres = [(24.0, 22.0), (24.0 + 0.4 * Self.radius, 22.0)]
        let (mask, labels) = Self.split(width: 56, height: 45, centres: centres)
        #expect(labels.count == 1)
        #expect(labels.labels.filter { $0 == 1 }.count == mask.count)
    }

    @Test func singleDiscStaysWhole() {
        let (mask, labels) = Self.split(width: 40, height: 40, centres: [(19.0, 20.0)])
        #expect(labels.count == 1)
        #expect(labels.labels.filter { $0 == 1 }.count == mask.count)
    }

    @Test func outsideTheMaskAndUnmarkedRegionsStayZero() {
        // Two separate blobs, a marker only in the left one; the marker pixel itself keeps its label.
        let mask = TestImages.binary([
            ".........",
            ".###..##.",
            ".###..##.",
            ".###.....",
        ])
        var markers = LabelImage(width: 9, height: 4, labels: [Int32](repeating: 0, count: 36), count: 1)
        markers.labels[2 * 9 + 2] = 1
        let flat = Plane(width: 9, height: 4)
        let labels = watershed(elevation: flat, markers: markers, mask: mask)
        for i in 0..<36 {
            let inLeftBlob = mask.bits[i] != 0 && i % 9 < 4
            #expect(labels.labels[i] == (inLeftBlob ? 1 : 0), "pixel \(i % 9), \(i / 9)")
        }
        #expect(labels.count == 1)
    }

    @Test func floodFollowsElevation() {
        // A 1-D valley: markers at both ends, a ridge at x = 6, so the split falls on the ridge.
        let elevation = Plane(width: 10, height: 1, values: [0, 1, 2, 3, 4, 5, 9, 4, 2, 0])
        let mask = BinaryImage(width: 10, height: 1, bits: [UInt8](repeating: 1, count: 10))
        let markers = LabelImage(width: 10, height: 1, labels: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2], count: 2)
        let labels = watershed(elevation: elevation, markers: markers, mask: mask)
        #expect(labels.labels[0...5].allSatisfy { $0 == 1 })
        #expect(labels.labels[7...9].allSatisfy { $0 == 2 })
        #expect(labels.labels[6] != 0)
    }
}

