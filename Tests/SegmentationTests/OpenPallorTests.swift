import Testing
@testable import Segmentation

/// Crescents completed to their convex hull (`fillOpenPallors`), regions inside one other merged into
/// it (`mergeEnclosed`), and the convex hull they rest on.
@Suite struct OpenPallorTests {
    /// A `width × height` label image from a function of the pixel (0 = background).
    static func labels(_ width: Int, _ height: Int, count: Int, _ label: (Int, Int) -> Int32) -> LabelImage {
        var values = [Int32](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { values[y * width + x] = label(x, y) } }
        return LabelImage(width: width, height: height, labels: values, count: count)
    }

    static func inDisc(_ x: Int, _ y: Int, _ cx: Int, _ cy: Int, _ r: Int) -> Bool {
        (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r
    }

    /// A cell of radius 8 at (12, 12) whose pallor (radius 5 at (16, 12)) opens to the right.
    static func crescent(_ x: Int, _ y: Int) -> Bool { inDisc(x, y, 12, 12, 8) && !inDisc(x, y, 16, 12, 5) }

    static func area(_ labels: LabelImage, _ l: Int32) -> Int { labels.labels.filter { $0 == l }.count }

    @Test func aCrescentBecomesTheWholeCell() {
        let before = Self.labels(26, 26, count: 1) { x, y in Self.crescent(x, y) ? 1 : 0 }
        let after = fillOpenPallors(before, maxSolidity: 0.8, minHullArea: 100, maxHullArea: 400, maxAbsorbedArea: 20)
        #expect(after.count == 1)
        #expect(after.labels[12 * 26 + 12] == 1 && after.labels[12 * 26 + 16] == 1, "the centre and the pallor")
        // Every pixel of the crescent stays; the filled cell is nearly the disc of radius 8 (201 pixels).
        for i in before.labels.indices where before.labels[i] == 1 { #expect(after.labels[i] == 1) }
        #expect(Self.area(before, 1) < 140 && (185...215).contains(Self.area(after, 1)), "\(Self.area(before, 1)) → \(Self.area(after, 1))")
        // Nothing outside the disc's box.
        for y in 0..<26 { for x in 0..<26 where x < 4 || x > 20 || y < 4 || y > 20 { #expect(after.labels[y * 26 + x] == 0) } }
    }

    @Test func aSmallPieceInThePallorGivesUpItsPixelsAndALargeNeighbourKeepsItsOwn() {
        // Label 2: a 3 × 3 piece in the pallor. Label 3: a large region reaching into the pallor's mouth.
        let before = Self.labels(30, 26, count: 3) { x, y in
            if (15...17).contains(x) && (11...13).contains(y) { return 2 }
            if x >= 19 && (8...16).contains(y) { return 3 }
            return Self.crescent(x, y) ? 1 : 0
        }
        let after = fillOpenPallors(before, maxSolidity: 0.8, minHullArea: 100, maxHullArea: 400, maxAbsorbedArea: 20)
        #expect(Self.area(after, 2) == 0, "the piece lies wholly in the hull")
        #expect(after.count == 3, "labels are not renumbered")
        for i in before.labels.indices where before.labels[i] == 3 { #expect(after.labels[i] == 3) }
        #expect(after.labels[12 * 30 + 16] == 1)
    }

    @Test func roundCellsClumpsAndSpecksAreLeftAlone() {
        let disc = Self.labels(26, 26, count: 1) { x, y in Self.inDisc(x, y, 12, 12, 8) ? 1 : 0 }
        #expect(fillOpenPallors(disc, maxSolidity: 0.8, minHullArea: 100, maxHullArea: 400, maxAbsorbedArea: 20).labels == disc.labels)
        let crescent = Self.labels(26, 26, count: 1) { x, y in Self.crescent(x, y) ? 1 : 0 }
        // The same crescent with a hull larger than a cell may be (a clump) or smaller (a speck).
        #expect(fillOpenPallors(crescent, maxSolidity: 0.8, minHullArea: 100, maxHullArea: 150, maxAbsorbedArea: 20).labels == crescent.labels)
        #expect(fillOpenPallors(crescent, maxSolidity: 0.8, minHullArea: 250, maxHullArea: 400, maxAbsorbedArea: 20).labels == crescent.labels)
    }

    /// On random discs with bites taken out: the hull is convex, holds every pixel corner of its region
    /// and has only region corners for vertices, its area is the shoelace area; the fill changes only
    /// background and small regions' pixels, each to a crescent whose hull holds the pixel's centre.
    @Test func theFillKeepsToItsRules() {
        var rng = SeededGenerator(seed: 41)
        for trial in 0..<200 {
            let w = Int.random(in: 8...30, using: &rng), h = Int.random(in: 8...30, using: &rng)
            var values = [Int32](repeating: 0, count: w * h)
            let count = Int.random(in: 1...5, using: &rng)
            for l in 1...count {
                let cx = Int.random(in: 0..<w, using: &rng), cy = Int.random(in: 0..<h, using: &rng)
                let r = Int.random(in: 1...7, using: &rng)
                let bx = cx + Int.random(in: -r...r, using: &rng), by = cy + Int.random(in: -r...r, using: &rng)
                let br = Int.random(in: 0...r, using: &rng)
                for y in 0..<h { for x in 0..<w where Self.inDisc(x, y, cx, cy, r) { values[y * w + x] = Int32(l) } }
                for y in 0..<h { for x in 0..<w where Self.inDisc(x, y, bx, by, br) && values[y * w + x] == Int32(l) { values[y * w + x] = 0 } }
            }
            let before = LabelImage(width: w, height: h, labels: values, count: count)
            let regions = RegionProperties(before)
            var hulls: [[(x: Double, y: Double)]] = [[]]
            for l in 1...count {
                guard regions[l].area > 0 else { hulls.append([]); continue }
                let hull = convexHull(rows: [rowExtents(before, l, regions[l])])
                hulls.append(hull)
                #expect(hull.count >= 3, "trial \(trial)")
                func cross(_ o: (x: Double, y: Double), _ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> Double {
                    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
                }
                var twice = 0.0
                for i in hull.indices {
                    let a = hull[i], b = hull[(i + 1) % hull.count], c = hull[(i + 2) % hull.count]
                    #expect(cross(a, b, c) > 0, "convex, no collinear vertex (trial \(trial))")
                    twice += a.x * b.y - b.x * a.y
                }
                #expect(abs(abs(twice) / 2 - convexHullArea(rows: [rowExtents(before, l, regions[l])])) < 1e-9)
                var corners: Set<[Int]> = []
                for y in 0..<h { for x in 0..<w where values[y * w + x] == Int32(l) {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] { corners.insert([x + dx, y + dy]) }
                } }
                for v in hull { #expect(corners.contains([Int(v.x), Int(v.y)]) && v.x == v.x.rounded() && v.y == v.y.rounded()) }
                for c in corners {
                    let p = (x: Double(c[0]), y: Double(c[1]))
                    #expect(hull.indices.allSatisfy { cross(hull[$0], hull[($0 + 1) % hull.count], p) >= 0 }, "corner \(c) outside the hull")
                }
            }
            let maxAbsorbed = 6.0
            let after = fillOpenPallors(before, maxSolidity: 0.8, minHullArea: 10, maxHullArea: 200, maxAbsorbedArea: maxAbsorbed)
            #expect(after.count == before.count)
            for i in values.indices where after.labels[i] != before.labels[i] {
                let old = Int(before.labels[i]), new = Int(after.labels[i])
                #expect(old == 0 || Double(regions[old].area) < maxAbsorbed, "trial \(trial): only background and small regions give pixels")
                let hull = hulls[new]
                let p = (x: Double(i % w) + 0.5, y: Double(i / w) + 0.5)
                #expect(hull.indices.allSatisfy { j in
                    let a = hull[j], b = hull[(j + 1) % hull.count]
                    return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= 0
                }, "trial \(trial): a pixel taken outside the hull")
            }
        }
    }

    @Test func aRegionInsideAnotherJoinsIt() {
        // Label 1: a ring; label 2: a blob in its middle; label 3: a blob beside it on the background.
        let before = Self.labels(30, 20, count: 3) { x, y in
            if Self.inDisc(x, y, 8, 8, 2) { return 2 }
            if Self.inDisc(x, y, 8, 8, 6) { return 1 }
            if Self.inDisc(x, y, 22, 8, 2) { return 3 }
            return 0
        }
        let after = mergeEnclosed(before, maxArea: 20)
        #expect(after.count == 2)
        #expect(after.labels[8 * 30 + 8] == after.labels[8 * 30 + 12], "the centre joins the ring")
        #expect(after.labels[8 * 30 + 22] != 0 && after.labels[8 * 30 + 22] != after.labels[8 * 30 + 8])
        // Too large to join, or touching the background, the image edge or two regions: left alone.
        #expect(mergeEnclosed(before, maxArea: 13).labels == before.labels)
        let edge = Self.labels(20, 20, count: 2) { x, y in x == 0 && (3...5).contains(y) ? 2 : (x < 6 && y < 9 ? 1 : 0) }
        #expect(mergeEnclosed(edge, maxArea: 20).labels == edge.labels)
        let between = Self.labels(20, 20, count: 3) { x, y in
            if (8...10).contains(x) && (8...10).contains(y) { return 3 }
            return x < 9 ? 1 : 2
        }
        #expect(mergeEnclosed(between, maxArea: 20).labels == between.labels)
    }
}
