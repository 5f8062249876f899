/// Estimates the typical red-cell diameter of a field from the chords between opposite edges.
///
/// From every edge pixel, step along its gradient (into the cell) and, at each distance `d`, add the
/// strength of any edge met there whose gradient points back (the other side of the same cell). The
/// histogram of `d` peaks at the cell diameter; a second, shorter peak comes from the rim of cells
/// with central pallor, and weaker ones at multiples from neighbouring cells. The chosen peak
/// maximises `histogram(d) · √d`, which prefers the diameter to the rim width without favouring the
/// multiples; a peak 2.5–6 times further out scoring at least 90% as much wins over it unless the
/// first peak repeats at about twice its length (rings: the first peak was the rim). Returns the diameter in pixels of `absorbance`, or `nil` when the field has no edges
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
    var peaks: [(d: Int, score: Double)] = []
    for d in 3..<maxD where smooth[d] >= smooth[d - 1] && smooth[d] >= smooth[d + 1] {
        peaks.append((d, smooth[d] * Double(d).squareRoot()))
    }
    guard var best = peaks.max(by: { $0.score < $1.score }) else { return nil }
    // A rim peak (cells with a large pallor) can outscore the diameter peak. Prefer a peak 2.5–6
    // times further out that scores at least 90% as much — unless there is also a peak near twice
    // the first one, the sign that the first is the diameter and the others are its multiples.
    let first = best
    let multiple = peaks.contains { Double($0.d) >= 1.6 * Double(first.d) && Double($0.d) <= 2.4 * Double(first.d)
                                    && $0.score >= 0.6 * first.score }
    if !multiple, let outer = peaks.filter({ Double($0.d) >= 2.5 * Double(first.d) && Double($0.d) <= 6 * Double(first.d)
                                             && $0.score >= 0.9 * first.score }).max(by: { $0.score < $1.score }) {
        best = outer
    }
    // Parabolic interpolation for a sub-pixel peak.
    let a = smooth[best.d - 1], b = smooth[best.d], c = smooth[best.d + 1]
    let denominator = a - 2 * b + c
    let offset = denominator < 0 ? 0.5 * (a - c) / denominator : 0
    return Double(best.d) + max(-0.5, min(0.5, offset))
}

