import Classifier
import Segmentation

/// Segmentation parameters chosen by grouped K-fold cross-validation over annotated fields, so that a
/// setting is judged on fields its choice did not see (MODEL.md's rule for every decision).
///
/// Each field is segmented once per candidate setting and validated against its annotations
/// (`FieldValidation`, no classifier). Fields are dealt into folds by group (`CrossValidation.assign`,
/// balanced by field count), never split. For each fold k the setting with the best `objective` on
/// the other folds is chosen, and its figures on fold k are what it would give on fields never seen.
/// If one setting wins every fold, the choice is stable; if the winners differ, or the chosen one
/// does not beat the current default on the held-out folds, the default stays.
public struct SegmentationSelection: Sendable {
    /// A candidate: a name for tables and the parameters it segments with.
    public struct Setting: Sendable {
        public var name: String
        public var parameters: SegmentationParameters
        public init(name: String, parameters: SegmentationParameters) { self.name = name; self.parameters = parameters }
    }

    /// One annotated field: its set (e.g. "iml"), its group and its validation under each setting
    /// (`validations[s]` for `settings[s]`; nil where segmentation failed).
    public struct Field: Sendable {
        public var set: String, group: String
        public var validations: [FieldValidation?]
        public init(set: String, group: String, validations: [FieldValidation?]) {
            self.set = set; self.group = group; self.validations = validations
        }
    }

    /// Pooled red-cell figures of one set's fields under one setting.
    public struct Figures: Sendable, Equatable {
        public var fields = 0, annotated = 0, detected = 0, matched = 0
        public init() {}
        /// Detected and annotated on fields with at least `ValidationSummary.defaultDenseThreshold` annotations.
        public var denseDetected = 0, denseAnnotated = 0
        public var recall: Double? { annotated > 0 ? Double(matched) / Double(annotated) : nil }
        public var denseCountRatio: Double? { denseAnnotated > 0 ? Double(denseDetected) / Double(denseAnnotated) : nil }

        mutating func add(_ v: FieldValidation) {
            fields += 1; annotated += v.annotated; detected += v.detected; matched += v.matched
            if v.annotated >= ValidationSummary.defaultDenseThreshold { denseDetected += v.detected; denseAnnotated += v.annotated }
        }
    }

    /// What fold k chose, and how the choice and the default did on fold k, per set.
    public struct FoldChoice: Sendable {
        public var fold: Int
        /// Index into `settings`.
        public var chosen: Int
        public var chosenFigures: [String: Figures], defaultFigures: [String: Figures]
    }

    public var settings: [Setting]
    public var fields: [Field]
    /// Index of the setting in use today, compared with each fold's choice.
    public var defaultSetting: Int

    public init(settings: [Setting], fields: [Field], defaultSetting: Int = 0) {
        precondition(!settings.isEmpty && settings.indices.contains(defaultSetting))
        precondition(fields.allSatisfy { $0.validations.count == settings.count })
        self.settings = settings; self.fields = fields; self.defaultSetting = defaultSetting
    }

    /// The score a setting's pooled figures get, higher better: summed over sets, recall minus how far
    /// the dense count ratio lies outside `band` (issue 12's targets: 0.95–1.08; inside it is free,
    /// outside each point counts as a point of recall lost). A set without dense fields adds its recall
    /// only. A field that failed to segment counts its annotations as missed.
    public static func objective(_ figures: [String: Figures], band: ClosedRange<Double> = 0.95 ... 1.08) -> Double {
        figures.values.reduce(0) { sum, f in
            let outside = f.denseCountRatio.map { max(0, band.lowerBound - $0, $0 - band.upperBound) } ?? 0
            return sum + (f.recall ?? 0) - outside
        }
    }

    /// Pooled figures per set of the fields `include` accepts, under setting `s`.
    public func figures(setting s: Int, where include: (Field) -> Bool) -> [String: Figures] {
        var out: [String: Figures] = [:]
        for field in fields where include(field) {
            if let v = field.validations[s] { out[field.set, default: Figures()].add(v) } else {
                // Unsegmented: its annotations are all missed. Their number is the same under every
                // setting, taken from any setting that segmented it.
                let annotated = field.validations.compactMap { $0?.annotated }.first ?? 0
                out[field.set, default: Figures()].fields += 1
                out[field.set, default: Figures()].annotated += annotated
            }
        }
        return out
    }

    /// The fold of each group (`CrossValidation.assign` by field count, `seed`).
    public func folds(_ k: Int, seed: UInt64) -> [String: Int] {
        var sizes: [String: Int] = [:]
        for field in fields { sizes[field.set + "/" + field.group, default: 0] += 1 }
        return CrossValidation.assign(groupSizes: sizes, folds: k, seed: seed)
    }

    /// For each of `k` folds: the setting with the best `objective` (count-ratio `band`) on the other
    /// folds (ties: the lower index, so the default when it is first), and its and the default's figures
    /// on the fold. Cost: O(k · settings · fields).
    public func select(folds k: Int, seed: UInt64, band: ClosedRange<Double> = 0.95 ... 1.08) -> [FoldChoice] {
        let fold = folds(k, seed: seed)
        func inFold(_ f: Field) -> Int { fold[f.set + "/" + f.group]! }
        return (0 ..< k).map { held in
            let scores = settings.indices.map { Self.objective(figures(setting: $0) { inFold($0) != held }, band: band) }
            let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
            return FoldChoice(fold: held, chosen: best, chosenFigures: figures(setting: best) { inFold($0) == held },
                              defaultFigures: figures(setting: defaultSetting) { inFold($0) == held })
        }
    }
}
