import Foundation

/// Grouped K-fold cross-validation: every group (an NIH patient, a ten-field group of a smear set) lies
/// in exactly one fold; model k is trained on the groups of every other fold and scored on fold k, so
/// each image gets one out-of-fold prediction from a model that never saw its patient. The figures are
/// given per fold with their spread (mean, standard deviation, range), pooled over all out-of-fold
/// predictions, per source and per group, worst groups first: which patients are hard decides a
/// single split's figure, and the spread says how much.
public enum CrossValidation {
    /// The fold (0..<folds) of each group, balanced by image count: groups are taken largest first
    /// (equal sizes in an order set by `seed`) and each goes to the fold with the fewest images so far
    /// (ties: the lower fold). Deterministic for the same sizes and seed; every fold differs from the
    /// others by at most the largest group's size. With fewer groups than folds, some folds are empty.
    /// Cost: O(groups · (log groups + folds)).
    public static func assign(groupSizes: [String: Int], folds: Int, seed: UInt64) -> [String: Int] {
        precondition(folds >= 2, "at least 2 folds")
        let order = groupSizes.keys.sorted { a, b in
            let (sa, sb) = (groupSizes[a]!, groupSizes[b]!)
            if sa != sb { return sa > sb }
            let (ha, hb) = (mix(a, seed), mix(b, seed))
            return ha != hb ? ha < hb : a < b
        }
        var load = [Int](repeating: 0, count: folds)
        var fold: [String: Int] = [:]
        for group in order {
            let k = load.indices.min { load[$0] < load[$1] || (load[$0] == load[$1] && $0 < $1) }!
            fold[group] = k
            load[k] += groupSizes[group]!
        }
        return fold
    }

    /// A seeded 64-bit hash of `text` (FNV-1a, then SplitMix64's finaliser with the seed).
    static func mix(_ text: String, _ seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var z = h ^ (seed &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The data source a group comes from, by the shared data's naming (`scripts/train-bundled-model`):
    /// NIH patients (`P12`, `C1`), IML fields (`PA17172`), Chula fields (`chula-03`), BCCD
    /// (`BloodImage_0001`); "other" for anything else.
    public static func source(ofGroup group: String) -> String {
        if group.range(of: #"^(P\d+|C\d+)$"#, options: .regularExpression) != nil { return "NIH" }
        if group.hasPrefix("PA") { return "IML" }
        if group.hasPrefix("chula-") { return "Chula" }
        if group.hasPrefix("BloodImage_") { return "BCCD" }
        return "other"
    }

    /// One image's out-of-fold prediction.
    public struct Prediction: Sendable, Equatable {
        public var path: String
        public var group: String
        public var label: Int
        public var probabilities: [Float]
        /// The fold the image was held out in.
        public var fold: Int

        public init(path: String, group: String, label: Int, probabilities: [Float], fold: Int) {
            self.path = path
            self.group = group
            self.label = label
            self.probabilities = probabilities
            self.fold = fold
        }

        /// The class with the highest probability (the first of equal ones).
        public var predicted: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 > $1) }! }
    }

    /// Mean, sample standard deviation (n − 1; 0 for one value) and range of a figure over folds; nil
    /// figures (e.g. AUC of a fold with one class) are left out, and `n` says how many counted.
    public struct Spread: Codable, Sendable, Equatable {
        public var mean: Double, sd: Double, min: Double, max: Double
        public var n: Int

        public init?(_ values: [Double?]) {
            let v = values.compactMap { $0 }
            guard !v.isEmpty else { return nil }
            n = v.count
            mean = v.reduce(0, +) / Double(v.count)
            let m = mean
            sd = v.count > 1 ? (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot() : 0
            min = v.min()!
            max = v.max()!
        }
    }

    /// A fold's figures on its held-out groups.
    public struct Fold: Codable, Sendable {
        public var fold: Int
        public var groups: Int
        public var images: Int
        public var accuracy: Double
        public var auc: Double?
        /// Of the positive class (nil without one): recall = sensitivity, and specificity.
        public var sensitivity: Double?, specificity: Double?, precision: Double?, f1: Double?
        public var seconds: Double
    }

    /// One group's (or source's) out-of-fold figures.
    public struct Part: Codable, Sendable {
        public var name: String
        public var images: Int
        public var errors: Int
        public var accuracy: Double
        /// Images of the positive class, and those called positive.
        public var positives: Int, calledPositive: Int
        /// Of the positive class (nil where undefined: no positive, or no negative, image).
        public var sensitivity: Double?, specificity: Double?
        /// For a source: its accuracy in each fold that holds it, with the spread (nil for a group).
        public var accuracyOverFolds: Spread?
    }

    /// Everything a cross-validation found.
    public struct Summary: Codable, Sendable {
        public var folds: [Fold]
        public var accuracy: Spread?, auc: Spread?, sensitivity: Spread?, specificity: Spread?, precision: Spread?, f1: Spread?
        /// All out-of-fold predictions as one set.
        public var pooled: Evaluation
        public var sources: [Part]
        /// Every group, worst accuracy first (ties: more images first, then name).
        public var groups: [Part]
    }

    /// The figures of `predictions` (one per image), per fold (with `seconds`, each fold's training
    /// time), pooled, per source and per group; `positive` is the class sensitivity refers to.
    public static func summarize(_ predictions: [Prediction], classNames: [String], positive: Int?, seconds: [Int: Double] = [:]) -> Summary {
        let byFold = Dictionary(grouping: predictions, by: \.fold)
        var folds: [Fold] = []
        for k in byFold.keys.sorted() {
            let p = byFold[k]!
            let e = Evaluation(probabilities: p.map(\.probabilities), labels: p.map(\.label), classNames: classNames, positive: positive)
            let (sensitivity, specificity, precision, f1) = binary(p, positive: positive)
            folds.append(Fold(fold: k, groups: Set(p.map(\.group)).count, images: p.count, accuracy: e.accuracy, auc: e.auc,
                              sensitivity: sensitivity, specificity: specificity, precision: precision, f1: f1, seconds: seconds[k] ?? 0))
        }
        let pooled = Evaluation(probabilities: predictions.map(\.probabilities), labels: predictions.map(\.label), classNames: classNames,
                                positive: positive)
        func accuracy(_ p: [Prediction]) -> Double { Double(p.filter { $0.predicted == $0.label }.count) / Double(p.count) }
        func parts(_ key: (Prediction) -> String, overFolds: Bool) -> [Part] {
            Dictionary(grouping: predictions, by: key).map { name, p in
                let errors = p.filter { $0.predicted != $0.label }.count
                let (sensitivity, specificity, _, _) = binary(p, positive: positive)
                return Part(name: name, images: p.count, errors: errors, accuracy: accuracy(p),
                            positives: positive.map { c in p.filter { $0.label == c }.count } ?? 0,
                            calledPositive: positive.map { c in p.filter { $0.predicted == c }.count } ?? 0,
                            sensitivity: sensitivity, specificity: specificity,
                            accuracyOverFolds: overFolds ? Spread(Dictionary(grouping: p, by: \.fold).values.map(accuracy)) : nil)
            }
        }
        return Summary(folds: folds, accuracy: Spread(folds.map(\.accuracy)), auc: Spread(folds.map(\.auc)),
                       sensitivity: Spread(folds.map(\.sensitivity)), specificity: Spread(folds.map(\.specificity)),
                       precision: Spread(folds.map(\.precision)), f1: Spread(folds.map(\.f1)), pooled: pooled,
                       sources: parts({ source(ofGroup: $0.group) }, overFolds: true).sorted { $0.name < $1.name },
                       groups: parts(\.group, overFolds: false).sorted { ($0.accuracy, -$0.images, $0.name) < ($1.accuracy, -$1.images, $1.name) })
    }

    /// Sensitivity, specificity, precision and F1 of the positive class (nil where undefined).
    static func binary(_ p: [Prediction], positive: Int?) -> (Double?, Double?, Double?, Double?) {
        guard let c = positive else { return (nil, nil, nil, nil) }
        let tp = p.filter { $0.label == c && $0.predicted == c }.count, fn = p.filter { $0.label == c && $0.predicted != c }.count
        let fp = p.filter { $0.label != c && $0.predicted == c }.count, tn = p.filter { $0.label != c && $0.predicted != c }.count
        let sensitivity = tp + fn > 0 ? Double(tp) / Double(tp + fn) : nil
        let specificity = tn + fp > 0 ? Double(tn) / Double(tn + fp) : nil
        let precision = tp + fp > 0 ? Double(tp) / Double(tp + fp) : nil
        let f1 = sensitivity.flatMap { s in precision.flatMap { p in s + p > 0 ? 2 * s * p / (s + p) : 0 } }
        return (sensitivity, specificity, precision, f1)
    }

    /// The out-of-fold predictions as table rows, header first: `path,group,source,fold,label,predicted,
    /// p_CLASS…` (one probability column per class, 4 decimals).
    public static func rows(_ predictions: [Prediction], classNames: [String]) -> [[String]] {
        [["path", "group", "source", "fold", "label", "predicted"] + classNames.map { "p_" + $0 }]
            + predictions.map { p in
                [p.path, p.group, source(ofGroup: p.group), String(p.fold), classNames[p.label], classNames[p.predicted]]
                    + p.probabilities.map { String(format: "%.4f", $0) }
            }
    }
}
