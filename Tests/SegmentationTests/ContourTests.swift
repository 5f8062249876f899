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
}
