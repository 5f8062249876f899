/// Totals over many validated fields.
public struct ValidationSummary: Sendable, Equatable {
    public var fields: [FieldValidation]
    /// Fields with at least this many annotated cells enter `denseCountRatio`.
    public var denseThreshold: Int

    public init(fields: [FieldValidation], denseThreshold: Int = 60) {
        self.fields = fields
        self.denseThreshold = denseThreshold
    }

    public var annotated: Int { fields.reduce(0) { $0 + $1.annotated } }
    public var detected: Int { fields.reduce(0) { $0 + $1.detected } }
    public var matched: Int { fields.reduce(0) { $0 + $1.matched } }
    public var leukocytesAnnotated: Int { fields.reduce(0) { $0 + $1.leukocytesAnnotated } }
    public var leukocytesIdentified: Int { fields.reduce(0) { $0 + $1.leukocytesIdentified } }
    public var leukocytesExcluded: Int { fields.reduce(0) { $0 + $1.leukocytesExcluded } }

    /// Matched / annotated (nil without annotations).
    public var recall: Double? { ratio(matched, annotated) }
    /// Matched / detected: a lower bound where annotations are incomplete.
    public var precision: Double? { ratio(matched, detected) }
    /// Detected / annotated over all fields.
    public var countRatio: Double? { ratio(detected, annotated) }
    /// Detected / annotated over fields with at least `denseThreshold` annotated cells.
    public var denseCountRatio: Double? {
        let dense = fields.filter { $0.annotated >= denseThreshold }
        return ratio(dense.reduce(0) { $0 + $1.detected }, dense.reduce(0) { $0 + $1.annotated })
    }
    public var denseFields: Int { fields.filter { $0.annotated >= denseThreshold }.count }
    public var leukocyteExclusionRate: Double? { ratio(leukocytesExcluded, leukocytesAnnotated) }
    public var leukocyteIdentificationRate: Double? { ratio(leukocytesIdentified, leukocytesAnnotated) }
}

func ratio(_ a: Int, _ b: Int) -> Double? { b > 0 ? Double(a) / Double(b) : nil }

extension FieldValidation {
    public var recall: Double? { ratio(matched, annotated) }
    public var precision: Double? { ratio(matched, detected) }
    public var countRatio: Double? { ratio(detected, annotated) }
}
