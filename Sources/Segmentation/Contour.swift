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
