import Testing
@testable import Segmentation

@Suite struct RegionPropertiesTests {
    /// Plain per-label loops over every pixel: the `Region` of each label `0…count` (label 0 left
    /// empty) and the sum of each plane over each label, in raster order.
    static func reference(_ labels: LabelImage, intensity: [Plane] = []) -> (regions: [Region], sums: [[Double]]) {
        let w = labels.width, h = labels.height
        func label(_ x: Int, _ y: Int) -> Int32 { labels.labels[y * w + x] }
        var regions = [Region(), ]
        var sums = [[Double]](repeating: [], count: labels.count + 1)
        sums[0] = [Double](repeating: 0, count: intensity.count)
        for l in Int32(1)...Int32(max(1, labels.count)) where l <= labels.count {
            var region = Region()
            var sum = [Double](repeating: 0, count: intensity.count)
            for y in 0..<h {
                for x in 0..<w where label(x, y) == l {
                    region.area += 1
                    region.sumX += x; region.sumY += y
                    region.x0 = min(region.x0, x); region.x1 = max(region.x1, x)
                    region.y0 = min(region.y0, y); region.y1 = max(region.y1, y)
                    let onEdge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                    if onEdge { region.touchesBorder = true }
                    let neighbours = [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                    if onEdge || neighbours.contains(where: { label($0.0, $0.1) != l }) { region.boundaryPixels += 1 }
                    for (p, plane) in intensity.enumerated() { sum[p] += Double(plane[x, y]) }
                }
            }
            regions.append(region)
            sums[Int(l)] = sum
        }
        return (regions, sums)
    }

    static func expectMatchesReference(_ labels: LabelImage, intensity: [Plane] = [], _ comment: Comment) {
        let properties = RegionProperties(labels, intensity: intensity)
        let (regions, sums) = reference(labels, intensity: intensity)
        #expect(properties.count == labels.count, comment)
        for l in 0...labels.count {
            #expect(properties[l] == regions[l], "label \(l): \(comment)")
            for p in intensity.indices where l > 0 {
                // Accumulated in the same order, so equal to the last bit.
                #expect(properties.intensitySum(l, plane: p) == sums[l][p], "label \(l), plane \(p): \(comment)")
            }
        }
    }

    static let sizes = [(1, 1), (1, 17), (17, 1), (2, 2), (3, 3), (9, 7), (40, 30), (64, 48)]

    @Test func matchesPlainLoopsOnRandomLabelImages() {
        var seed: UInt64 = 3000
        var empty = 0, touching = 0, inside = 0   // labels of each kind met, to show the cases are covered
        for (width, height) in Self.sizes {
            for (count, rectangles, specks) in [(1, 1, 0), (3, 4, 2), (12, 8, 10), (30, 6, 40)] {
                seed += 1
                let labels = TestImages.randomLabels(width: width, height: height, count: count,
                                                     rectangles: rectangles, specks: specks, seed: seed)
                let planes = [TestImages.randomPlane(width: width, height: height, seed: seed + 1),
                              TestImages.randomPlane(width: width, height: height, seed: seed + 2)]
                Self.expectMatchesReference(labels, intensity: planes, "seed \(seed), \(width)×\(height), \(count) labels")
                let regions = Self.reference(labels).regions.dropFirst()
                empty += regions.filter { $0.area == 0 }.count
                touching += regions.filter { $0.touchesBorder }.count
                inside += regions.filter { $0.area > 0 && !$0.touchesBorder }.count
            }
        }
        #expect(empty > 10 && touching > 10 && inside > 10, "\(empty) empty, \(touching) touching, \(inside) inside")
    }

    @Test func matchesPlainLoopsOnConnectedComponents() {
        var seed: UInt64 = 4000
        for (width, height) in Self.sizes {
            for density in [0.1, 0.5, 0.9] {
                seed += 1
                let labels = connectedComponents(TestImages.random(width: width, height: height, density: density, seed: seed))
                Self.expectMatchesReference(labels, "seed \(seed), \(width)×\(height), density \(density)")
            }
        }
    }

    @Test func measuresAWorkedExample() {
        // Label 1: a 3×3 square whose centre alone has all four neighbours in it; 2: one pixel in the
        // corner; 3: a row along the top edge; 4: no pixels.
        let labels = TestImages.labels([
            "33333",
            ".111.",
            ".111.",
            ".111.",
            "....2",
        ], count: 4)
        let properties = RegionProperties(labels, intensity: [Plane(width: 5, height: 5, repeating: 0.5)])
        let square = properties[1]
        #expect((square.area, square.x0, square.y0, square.x1, square.y1) == (9, 1, 1, 3, 3))
        #expect((square.width, square.height, square.centroidX, square.centroidY) == (3, 3, 2, 2))
        #expect(square.boundaryPixels == 8)
        #expect(!square.touchesBorder)
        #expect(properties.intensitySum(1, plane: 0) == 4.5)
        #expect(properties[2] == Region(area: 1, x0: 4, y0: 4, x1: 4, y1: 4, sumX: 4, sumY: 4, boundaryPixels: 1, touchesBorder: true))
        #expect((properties[3].area, properties[3].boundaryPixels, properties[3].touchesBorder) == (5, 5, true))
    }

    @Test func labelsWithoutPixelsAreEmpty() {
        let labels = TestImages.labels(["..2", "...", "2.."], count: 3)
        let properties = RegionProperties(labels, intensity: [TestImages.randomPlane(width: 3, height: 3, seed: 1)])
        for l in [1, 3] {
            #expect(properties[l] == Region())
            #expect((properties[l].area, properties[l].boundaryPixels, properties[l].touchesBorder) == (0, 0, false))
            #expect(properties[l].x0 > properties[l].x1 && properties[l].y0 > properties[l].y1)
            #expect(properties[l].centroidX.isNaN && properties[l].centroidY.isNaN)
            #expect(properties.intensitySum(l, plane: 0) == 0)
        }
        // Two pixels apart are one region of label 2.
        #expect((properties[2].area, properties[2].width, properties[2].height) == (2, 3, 3))
        // No labels at all.
        let empty = RegionProperties(LabelImage(width: 4, height: 3, labels: [Int32](repeating: 0, count: 12), count: 0))
        #expect(empty.count == 0)
    }

    /// Plain reference for `regionContacts`: every pixel's four neighbours, each contact seen from
    /// both sides and halved.
    static func referenceContacts(_ labels: LabelImage) -> [LabelPair: Int] {
        let w = labels.width, h = labels.height
        var twice: [LabelPair: Int] = [:]
        for y in 0..<h {
            for x in 0..<w {
                let a = Int(labels.labels[y * w + x])
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && ny >= 0 && nx < w && ny < h {
                    let b = Int(labels.labels[ny * w + nx])
                    if a != 0 && b != 0 && a != b { twice[LabelPair(a: min(a, b), b: max(a, b)), default: 0] += 1 }
                }
            }
        }
        return twice.mapValues { $0 / 2 }
    }

    @Test func contactsMatchPlainNeighbourCounts() {
        var seed: UInt64 = 5000
        for (width, height) in Self.sizes {
            for (count, rectangles, specks) in [(2, 3, 0), (12, 8, 10), (30, 6, 40)] {
                seed += 1
                let labels = TestImages.randomLabels(width: width, height: height, count: count,
                                                     rectangles: rectangles, specks: specks, seed: seed)
                #expect(regionContacts(labels) == Self.referenceContacts(labels), "seed \(seed), \(width)×\(height)")
            }
        }
        let labels = TestImages.labels([
            "1122",
            "1.22",
            "3333",
        ])
        #expect(regionContacts(labels) == [LabelPair(a: 1, b: 2): 1, LabelPair(a: 1, b: 3): 1, LabelPair(a: 2, b: 3): 2])
    }

    @Test func rowExtentsMatchPlainRows() {
        let labels = TestImages.randomLabels(width: 23, height: 19, count: 6, rectangles: 9, specks: 12, seed: 6000)
        let properties = RegionProperties(labels)
        for l in 1...labels.count where properties[l].area > 0 {
            let extents = rowExtents(labels, l, properties[l])
            #expect(extents.top == properties[l].y0)
            #expect(extents.min.count == properties[l].height)
            for (row, y) in (properties[l].y0...properties[l].y1).enumerated() {
                let xs = (0..<labels.width).filter { labels.labels[y * labels.width + $0] == Int32(l) }
                #expect(extents.min[row] == xs.min().map(Int32.init) ?? .max, "label \(l), row \(y)")
                #expect(extents.max[row] == xs.max().map(Int32.init) ?? .min, "label \(l), row \(y)")
            }
        }
    }
}
