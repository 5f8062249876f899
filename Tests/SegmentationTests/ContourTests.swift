import Testing
@testable import Segmentation

/// Outlines traced from masks: every corner is a boundary pixel, in order, and the traced polygon
/// has the area of the mask (within its boundary's half-pixel).
@Suite struct ContourTests {
    static func object(_ rows: [String], x: Int = 10, y: Int = 20) -> DetectedObject {
        DetectedObject(id: 1, x: x, y: y, mask: TestImages.binary(rows), status: .counted)
    }

    /// Shoelace area of a polygon.
    static func area(_ p: [(x: Int, y: Int)]) -> Double {
        var s = 0
        for i in p.indices { let a = p[i], b = p[(i + 1) % p.count]; s += a.x * b.y - b.x * a.y }
        return Double(abs(s)) / 2
    }

    @Test func aRectangleHasItsFourCornersClockwise() {
        let o = Self.object(["####", "####", "####"])
        #expect(o.outline().map { [$0.x, $0.y] } == [[10, 20], [13, 20], [13, 22], [10, 22]])
    }

    @Test func aSinglePixelAndAnEmptyMask() {
        #expect(Self.object(["#"]).outline().map { [$0.x, $0.y] } == [[10, 20]])
        #expect(Self.object(["...", "..."]).outline().isEmpty)
    }

    @Test func anLShapeAndADiscAreTracedAroundTheirBoundary() {
        let l = Self.object(["#...", "#...", "####"], x: 0, y: 0)
        // A shape one pixel wide is traced out and back: out along its inner side (cutting the inner
        // corner diagonally, as 8-connected tracing does), back along its outer side.
        #expect(l.outline().map { [$0.x, $0.y] } == [[0, 0], [0, 1], [1, 2], [3, 2], [0, 2]])
        let disc = DetectedObject(id: 1, x: 0, y: 0, mask: TestImages.discs(width: 41, height: 41, centres: [(20, 20)], radius: 18), status: .counted)
        let outline = disc.outline()
        // Corners lie on the boundary: mask pixels with a 4-neighbour outside.
        for p in outline {
            #expect(disc.contains(x: p.x, y: p.y))
            #expect(!disc.contains(x: p.x - 1, y: p.y) || !disc.contains(x: p.x + 1, y: p.y)
                    || !disc.contains(x: p.x, y: p.y - 1) || !disc.contains(x: p.x, y: p.y + 1))
        }
        // The polygon through boundary pixel centres encloses the disc less about half its perimeter.
        let expected = Double(disc.area) - Double.pi * 18
        #expect(abs(Self.area(outline) - expected) < 0.05 * expected, "\(Self.area(outline)) vs \(expected)")
        // Clockwise in image coordinates: positive shoelace sum with y down.
        var s = 0
        for i in outline.indices { let a = outline[i], b = outline[(i + 1) % outline.count]; s += a.x * b.y - b.x * a.y }
        #expect(s > 0)
    }

    /// Simplified outlines of discs and ellipses of many sizes: the kept vertices are a subsequence of
    /// the traced ones, every dropped vertex lies within the tolerance of the edge that replaces it, the
    /// area stays within the tolerance band along the outline, and a cell-sized outline loses most of
    /// its vertices.
    @Test func simplifiedOutlinesStayWithinTheTolerance() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let rx = Double.random(in: 1...40, using: &rng), ry = Double.random(in: 1...40, using: &rng)
            let w = Int(2 * rx) + 3, h = Int(2 * ry) + 3
            let rows = (0..<h).map { y in
                String((0..<w).map { x -> Character in
                    let dx = (Double(x) - Double(w - 1) / 2) / rx, dy = (Double(y) - Double(h - 1) / 2) / ry
                    return dx * dx + dy * dy <= 1 ? "#" : "."
                })
            }
            let outline = Self.object(rows, x: 0, y: 0).outline()
            let tolerance = 0.75
            let simple = simplifiedPolygon(outline, tolerance: tolerance)
            // A subsequence, in order.
            var kept: [Int] = []
            var next = 0
            for v in simple {
                while next < outline.count && (outline[next].x, outline[next].y) != (v.x, v.y) { next += 1 }
                #expect(next < outline.count, "a vertex that was not in the outline")
                kept.append(next)
                next += 1
            }
            // Each dropped vertex near the edge between the kept vertices around it.
            for (k, a) in kept.enumerated() {
                let b = k + 1 < kept.count ? kept[k + 1] : kept[0] + outline.count
                let p = outline[a], q = outline[b % outline.count]
                let dx = Double(q.x - p.x), dy = Double(q.y - p.y), length = (dx * dx + dy * dy).squareRoot()
                for i in (a + 1)..<b {
                    let r = outline[i % outline.count]
                    let ex = Double(r.x - p.x), ey = Double(r.y - p.y)
                    let d = length > 0 ? abs(ex * dy - ey * dx) / length : (ex * ex + ey * ey).squareRoot()
                    #expect(d <= tolerance + 1e-9)
                }
            }
            // The area moves by at most the tolerance band along the outline.
            let perimeter = outline.indices.reduce(0.0) { sum, i in
                let a = outline[i], b = outline[(i + 1) % outline.count]
                return sum + Double((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()
            }
            #expect(abs(Self.area(simple) - Self.area(outline)) <= tolerance * perimeter)
            if outline.count > 3 { #expect(simple.count >= 3 && simple.count <= outline.count) }
            if rx >= 20 && ry >= 20 { #expect(simple.count * 2 < outline.count, "\(simple.count) of \(outline.count)") }
        }
        #expect(simplifiedPolygon([(0, 0), (3, 0), (3, 2)], tolerance: 5).count == 3)
    }
}
