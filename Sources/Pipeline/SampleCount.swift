/// The parasitemia of one sample (one patient's slide): infected red cells over red cells counted,
/// pooled over its fields in order until the target count is reached.
public struct SampleCount: Sendable {
    /// Name of the sample (given with --sample, or the folder's name with --samples-root).
    public var name: String
    /// The fields used, in the order analysed.
    public var fields: [FieldAnalysis]
    /// Fields given for the sample (the count stops early once the target is reached).
    public var fieldsAvailable: Int
    /// Red cells to count (WHO: 5,000 on a thin film); `nil` = count every field given.
    public var targetCells: Int?
    /// Red-cell density used to convert parasitemia into parasites per µL.
    public var redCellsPerMicrolitre: Double

    public init(name: String, fields: [FieldAnalysis], fieldsAvailable: Int, targetCells: Int?, redCellsPerMicrolitre: Double) {
        self.name = name
        self.fields = fields
        self.fieldsAvailable = fieldsAvailable
        self.targetCells = targetCells
        self.redCellsPerMicrolitre = redCellsPerMicrolitre
    }

    /// The sample's counts and figures, pooled over its fields.
    public var tally: Tally { Tally.sum(fields.map(\.tally)) }
    public var targetReached: Bool { targetCells.map { tally.counted >= $0 } ?? true }
    /// Parasitized red cells per µL of blood with its interval: the parasitemia × red-cell density.
    public var parasitesPerMicrolitre: (value: Double, lower: Double, upper: Double)? { tally.perMicrolitre(redCellsPerMicrolitre) }
}
