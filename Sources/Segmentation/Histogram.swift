/// A fixed-range histogram of `Float` values (2,048 bins) for fast approximate quantiles.
struct Histogram {
    let lower: Float
    let upper: Float
    private(set) var bins: [Int]
    private(set) var count = 0

    init(lower: Float, upper: Float, binCount: Int = 2048) {
        self.lower = lower
        self.upper = upper
        bins = [Int](repeating: 0, count: binCount)
    }

    /// Adds a value; values outside the range count in the first or last bin.
    mutating func add(_ v: Float) {
        let scaled = (v - lower) / (upper - lower) * Float(bins.count)
        let bin = scaled.isNaN ? 0 : Int(max(0, min(Float(bins.count - 1), scaled)))
        bins[bin] += 1
        count += 1
    }

    /// The value below which a fraction `q` of the values lie, to within one bin
    /// ((upper − lower) / 2,048). Cost: one pass over the bins.
    func quantile(_ q: Double) -> Float {
        let target = Int(q * Double(count))
        var seen = 0
        for (bin, c) in bins.enumerated() {
            seen += c
            if seen > target { return lower + (Float(bin) + 0.5) / Float(bins.count) * (upper - lower) }
        }
        return upper
    }
}
