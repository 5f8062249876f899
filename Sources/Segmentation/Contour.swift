extension DetectedObject {
    /// The outer outline of the object's mask, as used for polygon outputs (QuPath GeoJSON): the
    /// centres of its boundary pixels in order, clockwise in image coordinates (y down), starting at
    /// its top-most, then left-most pixel, in the pixels of the image it was found in; points where
    /// the outline runs straight on are left out (only corners are kept). Traces the first
    /// 8-connected part in raster order (Moore-neighbour tracing, stopping on the first return to the
    /// start in the starting direction); holes are not traced. Empty for an empty mask; one point for a
    /// single pixel. Cost: O(boundary pixels) plus finding the start.
    public func outline() -> [(x: Int, y: Int)] {
        let w = width, h = height
        guard mask.bits.count == w * h, let first = mask.bits.firstIndex(where: { $0 != 0 }) else { return [] }
        @inline(__always) func inside(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < w && y < h && mask.bits[y * w + x] != 0 }
        // The 8 neighbours clockwise (y down), starting west.
        let steps = [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1)]
        let start = (first % w, first / w)
        var points: [(Int, Int)] = [start]
        // The direction (index in `steps`) of the pixel the sweep starts after: at the start, the
        // pixel to the west, outside the object (the start is the first in raster order).
        var p = start, from = 0
        var startDirection: Int?
        while true {
            var found: Int?
            for k in 1...8 {
                let d = (from + k) % 8
                if inside(p.0 + steps[d].0, p.1 + steps[d].1) { found = d; break }
            }
            guard let d = found else { break }   // a single pixel
            if p == start {
                if let first = startDirection, first == d, points.count > 1 { break }
                if startDirection == nil { startDirection = d }
            }
            p = (p.0 + steps[d].0, p.1 + steps[d].1)
            // Radial sweep: the next search starts just after the pixel we came from.
            from = (d + 4) % 8
            points.append(p)
            if points.count > 4 * (w + h) + 8 { break }   // cannot happen; a guard against a cycle
        }
        if points.count > 1, points.last! == start { points.removeLast() }
        // Keep the corners only.
        var corners: [(Int, Int)] = []
        for (i, q) in points.enumerated() {
            let a = points[(i + points.count - 1) % points.count], b = points[(i + 1) % points.count]
            if points.count < 3 || (q.0 - a.0, q.1 - a.1) != (b.0 - q.0, b.1 - q.1) { corners.append(q) }
        }
        return corners.map { (x: x + $0.0, y: y + $0.1) }
    }
}

/// The closed polygon `points` with the vertices that do not shape it beyond `tolerance` pixels left
/// out (Ramer–Douglas–Peucker on the two chains between the first vertex and the vertex farthest from
/// it): every vertex dropped lies within `tolerance` of the segment that replaces it, and those kept
/// are a subsequence of `points`, in order. A traced cell outline of ~100 corners becomes ~20 at
/// 0.75 px, which keeps a polygon file of a slide's cells a fraction of the size with no visible
/// change. Polygons of 3 vertices or fewer are returned as they are. Cost: O(n log n) typically,
/// O(n²) at worst.
public func simplifiedPolygon(_ points: [(x: Int, y: Int)], tolerance: Double) -> [(x: Int, y: Int)] {
    guard points.count > 3 else { return points }
    func squaredDistance(_ i: Int, _ j: Int) -> Int {
        let dx = points[i].x - points[j].x, dy = points[i].y - points[j].y
        return dx * dx + dy * dy
    }
    let far = (1..<points.count).max { squaredDistance(0, $0) < squaredDistance(0, $1) }!
    var keep = [Bool](repeating: false, count: points.count)
    keep[0] = true
    keep[far] = true
    /// Marks the vertices to keep strictly between `a` and `b` (indices, `b` may be `points.count` for 0).
    func chain(_ a: Int, _ b: Int) {
        guard b - a > 1 else { return }
        let p = points[a], q = points[b % points.count]
        let dx = Double(q.x - p.x), dy = Double(q.y - p.y), length = (dx * dx + dy * dy).squareRoot()
        var worst = a, worstDistance = 0.0
        for i in (a + 1)..<b {
            let ex = Double(points[i].x - p.x), ey = Double(points[i].y - p.y)
            let d = length > 0 ? abs(ex * dy - ey * dx) / length : (ex * ex + ey * ey).squareRoot()
            if d > worstDistance { (worst, worstDistance) = (i, d) }
        }
        guard worstDistance > tolerance else { return }
        keep[worst] = true
        chain(a, worst)
        chain(worst, b)
    }
    chain(0, far)
    chain(far, points.count)
    return points.indices.filter { keep[$0] }.map { points[$0] }
}
