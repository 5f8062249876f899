/// A likely cell centre found by circle voting.
public struct CircleCentre: Sendable, Equatable {
    public var x: Int
    public var y: Int
    /// Vote strength relative to a complete, sharp circle of the expected size (about 0–1).
    public var score: Float
}

/// Finds the centres of roughly round cells of diameter about `diameter` pixels by gradient voting
/// (a circular Hough transform restricted to each edge's own direction).
///
/// Every edge pixel votes, weighted by its strength, for the points 0.38–0.62 diameters away along
/// its gradient — into the cell. Votes are smoothed, and local maxima scoring at least `minScore`
/// are kept, strongest first, at least `minSeparation · diameter` apart. Touching and overlapping
/// cells keep their own centres because each cell's outline votes for its own centre, even where a
/// neighbour hides part of it. Cost: O(edge pixels · 0.24 · diameter) votes, plus two blurs.
public func findCircleCentres(absorbance: Plane, diameter: Double, minScore: Float,
                              minSeparation: Double = 0.5) -> [CircleCentre] {
    let w = absorbance.width, h = absorbance.height
    let gradient = Gradient(boxBlur(absorbance, radius: 1))
    let threshold = gradient.edgeThreshold()
    guard threshold.isFinite else { return [] }
    var votes = [Float](repeating: 0, count: w * h)
    let gx = gradient.gx.values, gy = gradient.gy.values, mag = gradient.magnitude.values
    let r0 = Float(0.38 * diameter), r1 = Float(0.62 * diameter)
    votes.withUnsafeMutableBufferPointer { acc in
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let m = mag[i]
                guard m > threshold else { continue }
                let ux = gx[i] / m, uy = gy[i] / m
                var r = r0
                while r <= r1 {
                    let cx = Int((Float(x) + r * ux).rounded()), cy = Int((Float(y) + r * uy).rounded())
                    if cx >= 0 && cy >= 0 && cx < w && cy < h { acc[cy * w + cx] += m }
                    r += 1
                }
            }
        }
    }
    let spread = max(1, Int((0.06 * diameter).rounded()))
    let smooth = boxBlur(boxBlur(Plane(width: w, height: h, values: votes), radius: spread), radius: spread)
    // A complete circle of edge strength `threshold · 4` (the 99th percentile) puts about
    // 2π·(d/2)·strength votes within the smoothing window.
    let window = Float((2 * spread + 1) * (2 * spread + 1))
    let reference = Float(2 * Double.pi * diameter / 2) * threshold * 4 / window
    var candidates: [CircleCentre] = []
    smooth.values.withUnsafeBufferPointer { s in
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let i = y * w + x
                let v = s[i]
                guard v / reference >= minScore else { continue }
                if v < s[i - 1] || v < s[i + 1] || v < s[i - w] || v < s[i + w]
                    || v < s[i - w - 1] || v < s[i - w + 1] || v < s[i + w - 1] || v < s[i + w + 1] { continue }
                candidates.append(CircleCentre(x: x, y: y, score: v / reference))
            }
        }
    }
    candidates.sort { ($0.score, $1.y, $1.x) > ($1.score, $0.y, $0.x) }
    // Greedy suppression on a grid of cells the size of the separation.
    let separation = max(1, minSeparation * diameter)
    let cell = max(1, Int(separation))
    let gw = w / cell + 1, gh = h / cell + 1
    var grid = [[Int]](repeating: [], count: gw * gh)
    var kept: [CircleCentre] = []
    let s2 = separation * separation
    for c in candidates {
        let bx = c.x / cell, by = c.y / cell
        var clear = true
        search: for ny in max(0, by - 1)...min(gh - 1, by + 1) {
            for nx in max(0, bx - 1)...min(gw - 1, bx + 1) {
                for k in grid[ny * gw + nx] {
                    let dx = Double(kept[k].x - c.x), dy = Double(kept[k].y - c.y)
                    if dx * dx + dy * dy < s2 { clear = false; break search }
                }
            }
        }
        if clear {
            grid[by * gw + bx].append(kept.count)
            kept.append(c)
        }
    }
    return kept
}
