/// Estimates the typical red-cell diameter of a field from the chords between opposite edges.
///
/// From every edge pixel, step along its gradient (into the cell) and, at each distance `d`, add the
/// strength of any edge met there whose gradient points back (the other side of the same cell). The
/// histogram of `d` peaks at the cell diameter; a second, shorter peak comes from the rim of cells
/// with central pallor, and weaker ones at multiples from neighbouring cells. The chosen peak
/// maximises `histogram(d) · √d`, which prefers the diameter to the rim width without favouring the
/// multiples. Returns the diameter in pixels of `absorbance`, or `nil` when the field has no edges
/// that pair up (a blank or non-smear image). Cost: O(edge pixels · maximum diameter).
public func estimateCellDiameter(absorbance: Plane) -> Double? {
    let w = absorbance.width, h = absorbance.height
    let gradient = Gradient(boxBlur(absorbance, radius: 1))
    let threshold = gradient.edgeThreshold()
    guard threshold.isFinite else { return nil }
    let maxD = min(w, h) / 3
    guard maxD > 6 else { return nil }
    var histogram = [Double](repeating: 0, count: maxD + 1)
    let gx = gradient.gx.values, gy = gradient.gy.values, mag = gradient.magnitude.values
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x
            let m = mag[i]
            guard m > threshold else { continue }
            let ux = gx[i] / m, uy = gy[i] / m
            for d in 2...maxD {
                let qx = Int((Float(x) + Float(d) * ux).rounded()), qy = Int((Float(y) + Float(d) * uy).rounded())
                guard qx >= 0, qy >= 0, qx < w, qy < h else { break }
                let q = qy * w + qx
                let back = -(gx[q] * ux + gy[q] * uy)
                if back > 0 { histogram[d] += Double(back * m) }
            }
        }
    }
    var smooth = histogram
    for d in 1..<maxD { smooth[d] = (histogram[d - 1] + histogram[d] + histogram[d + 1]) / 3 }
    var best = 0, bestScore = 0.0
    for d in 3..<maxD where smooth[d] >= smooth[d - 1] && smooth[d] >= smooth[d + 1] {
        let score = smooth[d] * Double(d).squareRoot()
        if score > bestScore { bestScore = score; best = d }
    }
    guard best > 0 else { return nil }
    // Parabolic interpolation for a sub-pixel peak.
    let a = smooth[best - 1], b = smooth[best], c = smooth[best + 1]
    let denominator = a - 2 * b + c
    let offset = denominator < 0 ? 0.5 * (a - c) / denominator : 0
    return Double(best) + max(-0.5, min(0.5, offset))
}
