import Foundation

/// Classification figures from predicted probabilities and true labels.
public struct Evaluation: Codable, Sendable {
    public struct ClassFigures: Codable, Sendable {
        public var name: String
        public var support: Int
        public var precision: Double, recall: Double, f1: Double
        /// One-vs-rest ROC AUC of this class's probability.
        public var auc: Double?
    }
    public var images: Int
    public var accuracy: Double
    /// Mean cross-entropy of the true class.
    public var loss: Double
    /// ROC AUC of the positive class (binary) or the mean one-vs-rest AUC over classes (multi-class).
    public var auc: Double?
    public var macroF1: Double
    /// `confusion[true][predicted]` counts.
    public var confusion: [[Int]]
    public var classes: [ClassFigures]
    /// The probability of the positive class at or above which it was predicted; nil: the argmax.
    public var threshold: Double?

    /// Figures for `probabilities[i]` (one row per image) against `labels`. `positive` picks the class
    /// whose AUC is reported as `auc` in the binary case; the prediction is `decision(_:positive:threshold:)`:
    /// the argmax, or with two classes, a `positive` and a `threshold`, the positive class at or above it.
    /// Every figure but the AUCs and the loss depends on the threshold.
    public init(probabilities: [[Float]], labels: [Int], classNames: [String], positive: Int? = nil, threshold: Double? = nil) {
        let k = classNames.count
        images = labels.count
        self.threshold = k == 2 && positive != nil ? threshold : nil
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var loss = 0.0
        for (p, y) in zip(probabilities, labels) {
            let predicted = Self.decision(p, positive: positive, threshold: self.threshold)
            confusion[y][predicted] += 1
            loss -= Double(log(max(p[y], 1e-12)))
        }
        self.confusion = confusion
        self.loss = images > 0 ? loss / Double(images) : 0
        accuracy = images > 0 ? Double((0 ..< k).reduce(0) { $0 + confusion[$1][$1] }) / Double(images) : 0
        classes = (0 ..< k).map { c in
            let tp = Double(confusion[c][c])
            let predicted = Double((0 ..< k).reduce(0) { $0 + confusion[$1][c] })
            let actual = Double(confusion[c].reduce(0, +))
            let precision = predicted > 0 ? tp / predicted : 0, recall = actual > 0 ? tp / actual : 0
            return ClassFigures(name: classNames[c], support: Int(actual), precision: precision, recall: recall,
                                f1: precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0,
                                auc: Self.rocAUC(scores: probabilities.map { $0[c] }, positives: labels.map { $0 == c }))
        }
        macroF1 = classes.map(\.f1).reduce(0, +) / Double(max(k, 1))
        if k == 2 { auc = classes[positive ?? 1].auc } else {
            let aucs = classes.compactMap(\.auc)
            auc = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
        }
    }

    /// The class predicted from one row of probabilities: with a `positive` class and a `threshold` (two
    /// classes), the positive class when its probability is at least `threshold`, else the other one;
    /// otherwise the argmax (the first of equal maxima). A threshold of 0.5 differs from the argmax only
    /// on an exact tie, which it gives to the positive class.
    public static func decision(_ p: [Float], positive: Int?, threshold: Double?) -> Int {
        if p.count == 2, let positive, let threshold { return Double(p[positive]) >= threshold ? positive : 1 - positive }
        return p.indices.max { p[$0] < p[$1] }!
    }

    /// Area under the ROC curve by the rank-sum (Mann–Whitney) formula with ties averaged; nil when
    /// either side is empty. Cost: O(n log n).
    public static func rocAUC(scores: [Float], positives: [Bool]) -> Double? {
        let pos = positives.filter { $0 }.count, neg = positives.count - pos
        guard pos > 0, neg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for t in i ... j where positives[order[t]] { rankSum += rank }
            i = j + 1
        }
        return (rankSum - Double(pos * (pos + 1)) / 2) / Double(pos * neg)
    }
}
