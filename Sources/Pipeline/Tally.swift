import Classifier

/// Red cells counted and those called parasitized, with every figure derived from them: the
/// parasitemia, its Wilson 95% interval, parasites per µL and the parasitemia adjusted for the
/// classifier's errors. The one place these are computed (for
/// a field, a sample, a whole run); reports only format them.
public struct Tally: Sendable, Equatable {
    public var counted: Int
    public var parasitized: Int

    public init(counted: Int = 0, parasitized: Int = 0) {
        self.counted = counted
        self.parasitized = parasitized
    }

    /// Parasitized / counted, as a fraction (nil with no cells counted).
    public var parasitemia: Double? { counted > 0 ? Double(parasitized) / Double(counted) : nil }
    /// Wilson 95% interval of the parasitemia fraction (nil with no cells counted).
    public var interval: (lower: Double, upper: Double)? { wilsonInterval(successes: parasitized, trials: counted) }
    /// Parasitized red cells per µL of blood, parasitemia × `redCellsPerMicrolitre`, with its interval
    /// (nil with no cells counted).
    public func perMicrolitre(_ redCellsPerMicrolitre: Double) -> (value: Double, lower: Double, upper: Double)? {
        guard let p = parasitemia, let ci = interval else { return nil }
        return (p * redCellsPerMicrolitre, ci.lower * redCellsPerMicrolitre, ci.upper * redCellsPerMicrolitre)
    }

    /// The parasitemia corrected for the classifier's errors at `rates` (Rogan–Gladen,
    /// `OperatingPoint.adjusted`), with its interval. Without the rates' cell counts the interval is
    /// the Wilson interval's bounds corrected the same way, the rates taken as exact. With them it also
    /// carries the rates' uncertainty: the lower bound takes the Wilson lower bound of the count, the
    /// lower bound of the specificity and the upper bound of the sensitivity (each 95 %), the upper bound
    /// the opposite ends, so it covers at least as well as each interval alone (conservative); it is
    /// [0, 1] when the rates' lower bounds no longer sum above 1. Nil with no cells counted.
    public func adjusted(by rates: OperatingPoint) -> (value: Double, lower: Double, upper: Double)? {
        guard let p = parasitemia, let ci = interval else { return nil }
        var se = (lower: rates.sensitivity, upper: rates.sensitivity), sp = (lower: rates.specificity, upper: rates.specificity)
        if let n = rates.positives, let m = rates.negatives,
           let a = wilsonInterval(successes: Int((rates.sensitivity * Double(n)).rounded()), trials: n),
           let b = wilsonInterval(successes: Int((rates.specificity * Double(m)).rounded()), trials: m) {
            se = a; sp = b
        }
        // Rates this uncertain could be those of a classifier no better than chance: no bound then.
        guard se.lower + sp.lower > 1 else { return (rates.adjusted(p), 0, 1) }
        return (rates.adjusted(p), OperatingPoint.adjusted(ci.lower, sensitivity: se.upper, specificity: sp.lower),
                OperatingPoint.adjusted(ci.upper, sensitivity: se.lower, specificity: sp.upper))
    }

    public static func + (a: Tally, b: Tally) -> Tally { Tally(counted: a.counted + b.counted, parasitized: a.parasitized + b.parasitized) }

    /// The sum of the tallies.
    public static func sum(_ tallies: some Sequence<Tally>) -> Tally { tallies.reduce(Tally(), +) }
}
