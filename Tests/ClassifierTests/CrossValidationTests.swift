import Foundation
import Testing
@testable import Classifier

@Suite("Grouped cross-validation: folds, spreads, summaries")
struct CrossValidationTests {
    /// Random group sizes (seeded): 1–60 groups of 1–500 images.
    static func sizes(_ seed: UInt64) -> [String: Int] {
        var state = seed &+ 1
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let count = Int(next() % 60) + 1
        return Dictionary(uniqueKeysWithValues: (0..<count).map { ("P\($0)", Int(next() % 500) + 1) })
    }

    @Test("every group goes to one fold; folds differ by at most the largest group; the same input gives the same folds",
          arguments: 0..<200)
    func assignment(seed: UInt64) {
        let sizes = Self.sizes(seed)
        let folds = Int(seed % 9) + 2
        let fold = CrossValidation.assign(groupSizes: sizes, folds: folds, seed: seed)
        #expect(Set(fold.keys) == Set(sizes.keys))
        #expect(fold.values.allSatisfy { (0..<folds).contains($0) })
        var load = [Int](repeating: 0, count: folds)
        for (g, k) in fold { load[k] += sizes[g]! }
        #expect(load.max()! - load.min()! <= sizes.values.max()!)
        #expect(CrossValidation.assign(groupSizes: sizes, folds: folds, seed: seed) == fold)
        if sizes.count >= folds { #expect(load.allSatisfy { $0 > 0 }, "no empty fold when there are enough groups") }
    }

    @Test func theSeedOrdersEqualGroups() {
        let sizes = Dictionary(uniqueKeysWithValues: (0..<40).map { ("P\($0)", 10) })
        let a = CrossValidation.assign(groupSizes: sizes, folds: 5, seed: 1), b = CrossValidation.assign(groupSizes: sizes, folds: 5, seed: 2)
        #expect(a != b)
        #expect(Dictionary(grouping: a.values, by: { $0 }).values.allSatisfy { $0.count == 8 })
    }

    @Test func spreadIsTheSampleStandardDeviation() throws {
        let s = try #require(CrossValidation.Spread([0.9, nil, 0.8, 1.0]))
        #expect(s.n == 3)
        #expect(abs(s.mean - 0.9) < 1e-12)
        #expect(abs(s.sd - 0.1) < 1e-12)
        #expect(s.min == 0.8 && s.max == 1.0)
        #expect(CrossValidation.Spread([0.5])?.sd == 0)
        #expect(CrossValidation.Spread([nil, nil]) == nil)
    }

    @Test func sourcesFollowTheSharedDataNames() {
        #expect(CrossValidation.source(ofGroup: "P12") == "NIH")
        #expect(CrossValidation.source(ofGroup: "C1") == "NIH")
        #expect(CrossValidation.source(ofGroup: "PA17172") == "IML")
        #expect(CrossValidation.source(ofGroup: "chula-03") == "Chula")
        #expect(CrossValidation.source(ofGroup: "BloodImage_0001") == "BCCD")
        #expect(CrossValidation.source(ofGroup: "x") == "other")
    }

    /// A hand-counted example: classes [parasitized, uninfected], two folds.
    @Test func summaryCountsPerFoldPooledSourceAndGroup() throws {
        func p(_ group: String, _ label: Int, _ pPositive: Float, _ fold: Int) -> CrossValidation.Prediction {
            .init(path: "\(group)-\(label)-\(pPositive)", group: group, label: label, probabilities: [pPositive, 1 - pPositive], fold: fold)
        }
        let predictions = [
            p("P1", 0, 0.9, 0), p("P1", 0, 0.2, 0), p("P1", 1, 0.1, 0), p("P1", 1, 0.3, 0),   // fold 0: 3 of 4 right
            p("PA17172", 0, 0.8, 1), p("PA17172", 1, 0.6, 1), p("P2", 1, 0.4, 1), p("P2", 1, 0.05, 1),  // fold 1: 3 of 4 right
        ]
        let s = CrossValidation.summarize(predictions, classNames: ["parasitized", "uninfected"], positive: 0, seconds: [0: 2, 1: 3])
        #expect(s.folds.map(\.images) == [4, 4])
        #expect(s.folds.map(\.accuracy) == [0.75, 0.75])
        #expect(s.folds[0].sensitivity == 0.5 && s.folds[0].specificity == 1)
        #expect(s.folds[1].sensitivity == 1 && s.folds[1].specificity == 2.0 / 3.0)
        #expect(s.folds.map(\.seconds) == [2, 3])
        #expect(s.accuracy?.mean == 0.75 && s.accuracy?.sd == 0)
        #expect(s.pooled.images == 8 && s.pooled.accuracy == 0.75)
        #expect(s.sources.map(\.name) == ["IML", "NIH"])
        #expect(s.sources.map(\.errors) == [1, 1])
        // NIH: fold 0 all four (3 right), fold 1 the two of P2 (both right).
        #expect(s.sources[1].accuracyOverFolds?.mean == (0.75 + 1.0) / 2)
        #expect(s.sources[1].sensitivity == 0.5 && s.sources[1].specificity == 1)
        #expect(s.sources[0].sensitivity == 1 && s.sources[0].specificity == 0)
        #expect(s.groups.allSatisfy { $0.accuracyOverFolds == nil })
        #expect(s.groups.map(\.name) == ["PA17172", "P1", "P2"], "worst first, then the larger group")
        #expect(s.groups[0].positives == 1 && s.groups[0].calledPositive == 2)
        let rows = CrossValidation.rows(predictions, classNames: ["parasitized", "uninfected"])
        #expect(rows[0] == ["path", "group", "source", "fold", "label", "predicted", "p_parasitized", "p_uninfected"])
        #expect(rows.count == 9)
        #expect(rows[2] == ["P1-0-0.2", "P1", "NIH", "0", "parasitized", "uninfected", "0.2000", "0.8000"])
    }
}
