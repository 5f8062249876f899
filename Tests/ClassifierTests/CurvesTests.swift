import Foundation
import NeuralNetwork
import Testing
@testable import Classifier

@Suite("ROC, precision–recall and reliability curves")
struct CurvesTests {
    /// Seeded random scores on a coarse grid (so ties are common) and labels with a random positive rate.
    static func sample(_ seed: UInt64) -> (scores: [Float], positives: [Bool]) {
        var state = seed &+ 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let n = Int(next() % 300) + 2, levels = UInt64(next() % 50) + 2, rate = next() % 100
        var scores: [Float] = [], positives: [Bool] = []
        for _ in 0..<n {
            let y = next() % 100 < rate
            // Positives score higher on average, so the curves are not all at chance.
            scores.append(Float(min(levels - 1, next() % levels + (y ? levels / 4 : 0))) / Float(levels - 1))
            positives.append(y)
        }
        return (scores, positives)
    }

    /// Area under a curve by trapezoids (the ROC of tied groups is a straight diagonal step).
    static func trapezoid(_ c: [Curves.Point]) -> Double {
        zip(c, c.dropFirst()).reduce(0) { $0 + ($1.1.x - $1.0.x) * ($1.1.y + $1.0.y) / 2 }
    }

    @Test("the ROC runs monotone from (0,0) to (1,1) and its area is the rank-sum AUC, ties included", arguments: 0..<200)
    func rocAreaIsAUC(seed: UInt64) throws {
        let (scores, positives) = Self.sample(seed)
        guard let auc = Evaluation.rocAUC(scores: scores, positives: positives) else {
            #expect(Curves.roc(scores: scores, positives: positives) == nil)
            return
        }
        let roc = try #require(Curves.roc(scores: scores, positives: positives))
        #expect(roc.first == Curves.Point(0, 0) && roc.last == Curves.Point(1, 1))
        #expect(zip(roc, roc.dropFirst()).allSatisfy { $0.x <= $1.x && $0.y <= $1.y })
        #expect(abs(Self.trapezoid(roc) - auc) < 1e-9)
        // Thinning keeps the ends, stays within its bound and keeps the area close.
        let thin = Curves.thin(roc, limit: 20)
        #expect(thin.first == roc.first && thin.last == roc.last && thin.count <= 42)
        #expect(abs(Self.trapezoid(thin) - auc) < 0.1)
    }

    @Test func precisionRecallByHand() throws {
        // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.7 (−), 0.1 (+): thresholds 0.9, 0.8, 0.7, 0.1.
        let pr = try #require(Curves.precisionRecall(scores: [0.9, 0.8, 0.7, 0.7, 0.1], positives: [true, false, true, false, true]))
        let expected = [Curves.Point(1.0 / 3, 1), Curves.Point(1.0 / 3, 0.5), Curves.Point(2.0 / 3, 0.5), Curves.Point(1, 0.6)]
        #expect(pr.count == expected.count)
        for (a, b) in zip(pr, expected) { #expect(abs(a.x - b.x) < 1e-12 && abs(a.y - b.y) < 1e-12) }
        // AP = 1/3·1 + 0 + 1/3·0.5 + 1/3·0.6.
        #expect(abs(Curves.averagePrecision(pr) - (1.0 / 3 + 0.5 / 3 + 0.6 / 3)) < 1e-12)
        #expect(Curves.precisionRecall(scores: [0.5], positives: [false]) == nil)
        // A perfect ranking has average precision 1.
        let perfect = try #require(Curves.precisionRecall(scores: [0.9, 0.8, 0.2], positives: [true, true, false]))
        #expect(Curves.averagePrecision(perfect) == 1)
    }

    @Test func reliabilityByHand() {
        // Bin 0.0–0.1: 0.05 (−), 0.05 (+): mean 0.05, observed 0.5. Bin 0.9–1: 0.95 (+), 1.0 (+): mean 0.975, observed 1.
        let (bins, ece) = Curves.reliability(probabilities: [0.05, 0.05, 0.95, 1.0], positives: [false, true, true, true], bins: 10)
        #expect(bins.count == 10)
        #expect(bins[0].count == 2 && abs(bins[0].meanPredicted! - 0.05) < 1e-6 && bins[0].observed == 0.5)
        #expect(bins[9].count == 2 && abs(bins[9].meanPredicted! - 0.975) < 1e-6 && bins[9].observed == 1)
        #expect(bins[1...8].allSatisfy { $0.count == 0 && $0.meanPredicted == nil })
        #expect(abs(ece - (0.5 * 0.45 + 0.5 * 0.025)) < 1e-6)
    }

    @Test("a calibrated score has an ECE near 0, an overconfident one does not", arguments: [3, 11] as [UInt64])
    func calibration(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        var p: [Float] = [], y: [Bool] = [], overconfident: [Float] = []
        for _ in 0..<20_000 {
            let q = Float.random(in: 0..<1, using: &rng)
            p.append(q); y.append(Float.random(in: 0..<1, using: &rng) < q)
            overconfident.append(q < 0.5 ? q / 4 : 1 - (1 - q) / 4)
        }
        #expect(Curves.reliability(probabilities: p, positives: y).ece < 0.02)
        #expect(Curves.reliability(probabilities: overconfident, positives: y).ece > 0.1)
    }
}
