/// Otsu's threshold: the value `t` that maximises the between-class variance of `{v ≤ t}` and `{v > t}`,
/// computed on a 256-bin histogram of the values in `[lower, upper]` (values outside are clamped).
///
/// Returns the upper edge of the chosen bin, in the units of the input. Cost: one pass plus 256 steps.
public func otsuThreshold(_ values: UnsafeBufferPointer<Float>, lower: Float, upper: Float) -> Float {
    precondition(upper > lower)
    var histogram = [Double](repeating: 0, count: 256)
    let scale = 255.0 / (upper - lower)
    for v in values {
        let bin = Int(max(0, min(255, (v - lower) * scale)))
        histogram[bin] += 1
    }
    return otsuThreshold(histogram: histogram) .map { lower + Float($0 + 1) / scale } ?? (lower + upper) / 2
}

/// Otsu's threshold on a histogram: the bin index `k` such that splitting into bins `0…k` and
/// `k+1…` maximises the between-class variance; `nil` when the histogram holds a single value.
public func otsuThreshold(histogram: [Double]) -> Int? {
    let total = histogram.reduce(0, +)
    guard total > 0 else { return nil }
    var sumAll = 0.0
    for (i, h) in histogram.enumerated() { sumAll += Double(i) * h }
    var weightBelow = 0.0, sumBelow = 0.0
    var best = -1.0, bestIndex: Int? = nil
    for k in 0..<(histogram.count - 1) {
        weightBelow += histogram[k]
        sumBelow += Double(k) * histogram[k]
        let weightAbove = total - weightBelow
        if weightBelow == 0 || weightAbove == 0 { continue }
        let meanBelow = sumBelow / weightBelow
        let meanAbove = (sumAll - sumBelow) / weightAbove
        let between = weightBelow * weightAbove * (meanBelow - meanAbove) * (meanBelow - meanAbove)
        if between > best { best = between; bestIndex = k }
    }
    return bestIndex
}
