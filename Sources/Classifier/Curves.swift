/// Curves of a binary score against true labels: ROC, precision–recall and reliability (calibration).
/// Scores are the predicted probability of the positive class; a threshold t calls every score ≥ t
/// positive. Tied scores always move together, so no curve depends on the order of equal scores.
public enum Curves {
    /// A point of a curve.
    public struct Point: Codable, Sendable, Equatable {
        public var x: Double, y: Double
        public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    }

    /// The ROC curve: (false-positive rate, true-positive rate) as the threshold falls from above the
    /// highest score past each distinct score, from (0, 0) to (1, 1); a group of tied scores is one
    /// (diagonal) step. Its trapezoid area equals `Evaluation.rocAUC`. nil when either class is empty.
    /// Cost: O(n log n).
    public static func roc(scores: [Float], positives: [Bool]) -> [Point]? {
        let pos = positives.filter { $0 }.count, neg = positives.count - pos
        guard pos > 0, neg > 0 else { return nil }
        return steps(scores: scores, positives: positives).map { tp, fp in Point(Double(fp) / Double(neg), Double(tp) / Double(pos)) }
    }

    /// The precision–recall curve: (recall, precision) at each distinct score taken as the threshold,
    /// highest first (so recall rises to 1). nil without a positive. Cost: O(n log n).
    public static func precisionRecall(scores: [Float], positives: [Bool]) -> [Point]? {
        let pos = positives.filter { $0 }.count
        guard pos > 0 else { return nil }
        return steps(scores: scores, positives: positives).dropFirst().map { tp, fp in
            Point(Double(tp) / Double(pos), Double(tp) / Double(tp + fp))
        }
    }

    /// Average precision, the step area under the precision–recall curve: Σ (Rₖ − Rₖ₋₁) · Pₖ over the
    /// thresholds, with R₀ = 0. 1 for a perfect ranking; about the positive fraction for a random one.
    public static func averagePrecision(_ curve: [Point]) -> Double {
        var area = 0.0, recall = 0.0
        for p in curve { area += (p.x - recall) * p.y; recall = p.x }
        return area
    }

    /// Cumulative (true positives, false positives) after each group of tied scores, highest score
    /// first, starting at (0, 0).
    static func steps(scores: [Float], positives: [Bool]) -> [(Int, Int)] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var out = [(0, 0)], tp = 0, fp = 0, i = 0
        while i < order.count {
            var j = i
            while j < order.count && scores[order[j]] == scores[order[i]] {
                if positives[order[j]] { tp += 1 } else { fp += 1 }
                j += 1
            }
            out.append((tp, fp))
            i = j
        }
        return out
    }

    /// One bin of a reliability diagram.
    public struct Bin: Codable, Sendable, Equatable {
        /// The bin's probability range [lower, upper) (the last bin includes 1).
        public var lower: Double, upper: Double
        public var count: Int
        /// Mean predicted probability and the observed fraction of positives in the bin (nil when empty).
        public var meanPredicted: Double?, observed: Double?
    }

    /// The reliability diagram of `probabilities` in `bins` equal-width bins, and the expected calibration
    /// error ECE = Σ_b (n_b / N) · |observed_b − meanPredicted_b| (0 for a calibrated model; at most 1).
    /// A probability outside [0, 1] is clamped to it. ECE is 0 for no scores. Cost: O(n).
    public static func reliability(probabilities: [Float], positives: [Bool], bins: Int = 10) -> (bins: [Bin], ece: Double) {
        precondition(bins >= 1)
        var count = [Int](repeating: 0, count: bins), sum = [Double](repeating: 0, count: bins), hits = [Int](repeating: 0, count: bins)
        for (p, y) in zip(probabilities, positives) {
            let v = min(max(Double(p), 0), 1), b = min(Int(v * Double(bins)), bins - 1)
            count[b] += 1; sum[b] += v
            if y { hits[b] += 1 }
        }
        let n = Double(max(probabilities.count, 1))
        var ece = 0.0
        let out = (0 ..< bins).map { b -> Bin in
            guard count[b] > 0 else { return Bin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: 0) }
            let mean = sum[b] / Double(count[b]), observed = Double(hits[b]) / Double(count[b])
            ece += Double(count[b]) / n * abs(observed - mean)
            return Bin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: count[b], meanPredicted: mean, observed: observed)
        }
        return (out, ece)
    }

    /// Fewer points of a curve in the unit square, for drawing: the first, the last, and every point that
    /// moved at least 1/limit (in x or y) from the last one kept, so at most 2·limit + 2 of them for a
    /// curve monotone in x and y (ROC, reliability). Curves of at most `limit` points are returned as they are.
    public static func thin(_ curve: [Point], limit: Int = 300) -> [Point] {
        guard curve.count > limit, let last = curve.last else { return curve }
        let step = 1 / Double(limit)
        var out = [curve[0]]
        for p in curve.dropFirst().dropLast() where abs(p.x - out.last!.x) >= step || abs(p.y - out.last!.y) >= step { out.append(p) }
        out.append(last)
        return out
    }
}
