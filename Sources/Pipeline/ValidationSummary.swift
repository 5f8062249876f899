import Classifier

/// Totals over many validated fields.
public struct ValidationSummary: Sendable, Equatable {
    public var fields: [FieldValidation]
    /// Fields with at least this many annotated cells enter `denseCountRatio`.
    public var denseThreshold: Int

    /// The usual `denseThreshold`: fields with fewer annotations are labelled too incompletely for a
    /// count ratio to mean something.
    public static let defaultDenseThreshold = 60

    public init(fields: [FieldValidation], denseThreshold: Int = defaultDenseThreshold) {
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

    // Classification (fields validated with classifier calls).
    public var classified: Bool { fields.contains { $0.classified } }
    public var truePositives: Int { fields.reduce(0) { $0 + $1.truePositives } }
    public var falseNegatives: Int { fields.reduce(0) { $0 + $1.falseNegatives } }
    public var trueNegatives: Int { fields.reduce(0) { $0 + $1.trueNegatives } }
    public var falsePositives: Int { fields.reduce(0) { $0 + $1.falsePositives } }
    /// Of matched cells annotated parasitized, the fraction called parasitized.
    public var sensitivity: Double? { ratio(truePositives, truePositives + falseNegatives) }
    /// Of matched cells annotated uninfected, the fraction called uninfected.
    public var specificity: Double? { ratio(trueNegatives, trueNegatives + falsePositives) }
    /// Pooled over all fields: parasitized calls / counted cells.
    public var predictedParasitemia: Double? { ratio(fields.reduce(0) { $0 + $1.calledParasitized }, detected) }
    /// Pooled over all fields: parasitized annotations / red-cell annotations.
    public var annotatedParasitemia: Double? { ratio(fields.reduce(0) { $0 + $1.annotatedParasitized }, annotated) }
    /// The pooled predicted parasitemia corrected for the classifier's errors at `rates`
    /// (`OperatingPoint.adjusted`).
    public func predictedParasitemia(adjustedBy rates: OperatingPoint) -> Double? { predictedParasitemia.map(rates.adjusted) }
    /// Median over fields (with annotated cells) of |predicted − annotated| parasitemia, as a fraction;
    /// with `rates`, each field's predicted parasitemia is first corrected for the classifier's errors.
    public func medianAbsoluteParasitemiaError(adjustedBy rates: OperatingPoint? = nil) -> Double? {
        let errors = fields.compactMap { f -> Double? in
            guard let p = f.predictedParasitemia, let a = f.annotatedParasitemia else { return nil }
            return abs((rates.map { $0.adjusted(p) } ?? p) - a)
        }.sorted()
        guard !errors.isEmpty else { return nil }
        return errors.count % 2 == 1 ? errors[errors.count / 2] : (errors[errors.count / 2 - 1] + errors[errors.count / 2]) / 2
    }
    /// Fields with at least one parasitized call.
    public var fieldsWithParasitizedCalls: Int { fields.filter { $0.calledParasitized > 0 }.count }
    public var leukocyteIdentificationRate: Double? { ratio(leukocytesIdentified, leukocytesAnnotated) }
}

func ratio(_ a: Int, _ b: Int) -> Double? { b > 0 ? Double(a) / Double(b) : nil }

extension FieldValidation {
    /// Parasitized calls / counted cells (nil without a classifier or cells).
    public var predictedParasitemia: Double? { classified ? ratio(calledParasitized, detected) : nil }
    /// Parasitized / red-cell annotations (nil without a classifier or annotations).
    public var annotatedParasitemia: Double? { classified ? ratio(annotatedParasitized, annotated) : nil }
    public var recall: Double? { ratio(matched, annotated) }
    public var precision: Double? { ratio(matched, detected) }
    public var countRatio: Double? { ratio(detected, annotated) }
}
