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
    /// `OperatingPoint.adjusted`), with the Wilson interval's bounds corrected the same way (the
    /// uncertainty of the rates themselves is not included). Nil with no cells counted.
    public func adjusted(by rates: OperatingPoint) -> (value: Double, lower: Double, upper: Double)? {
        guard let p = parasitemia, let ci = interval else { return nil }
        return (rates.adjusted(p), rates.adjusted(ci.lower), rates.adjusted(ci.upper))
    }

    public static func + (a: Tally, b: Tally) -> Tally { Tally(counted: a.counted + b.counted, parasitized: a.parasitized + b.parasitized) }

    /// The sum of the tallies.
    public static func sum(_ tallies: some Sequence<Tally>) -> Tally { tallies.reduce(Tally(), +) }
}
