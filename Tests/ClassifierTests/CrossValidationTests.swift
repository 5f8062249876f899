import Foundation
import NeuralNetwork
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

    @Test("training the folds: one model per fold, each image predicted once by its fold's model, a curve point per epoch")
    func trainingTheFolds() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let sizes = Dictionary(grouping: folder.entries, by: \.group).mapValues(\.count)
        let foldOf = CrossValidation.assign(groupSizes: sizes, folds: 3, seed: 1)
        var made = 0, done: [Int] = []
        let options = TrainingOptions(epochs: 2, batchSize: 4, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01, weightDecay: 0, momentum: 0.9))
        let outcome = try CrossValidation.train(
            entries: folder.entries, foldOf: foldOf, folds: 3, options: options, testTimeSymmetries: [2],
            makeModel: {
                made += 1
                return Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 1), classNames: folder.classNames,
                             preprocessing: Preprocessing(fit: .pad))
            },
            foldDone: { k, _, held in
                done.append(k)
                #expect(held.allSatisfy { $0.fold == k && foldOf[$0.group] == k })
            })
        #expect(made == 3 && done == [0, 1, 2])
        #expect(outcome.predictions.count == folder.entries.count)
        #expect(Set(outcome.predictions.map(\.path)) == Set(folder.entries.map(\.path)))
        #expect(outcome.predictions.allSatisfy { foldOf[$0.group] == $0.fold })
        #expect(outcome.curves.map { $0.map(\.epoch) } == [[1, 2], [1, 2], [1, 2]])
        #expect(outcome.curves.joined().allSatisfy { $0.heldOutAccuracy >= 0 && $0.heldOutAccuracy <= 1 && $0.trainLoss.isFinite })
        #expect(outcome.imagesPerSecond.count == 3 && outcome.modelBytes > 0)
        #expect(Array(outcome.symmetric.keys) == [2] && outcome.symmetric[2]?.map(\.path) == outcome.predictions.map(\.path),
                "only the symmetries asked for, one per image")
        // Too few training images for one batch is one clear error.
        var big = options
        big.batchSize = 100
        #expect(throws: TrainingError.self) {
            _ = try CrossValidation.train(entries: folder.entries, foldOf: foldOf, folds: 3, options: big,
                                          makeModel: { Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 1),
                                                             classNames: folder.classNames, preprocessing: Preprocessing(fit: .pad)) })
        }
    }

    @Test func aSubsetCopiesTheChosenImagesInOrder() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let set = try ImageSet(entries: folder.entries, preprocessing: Preprocessing(fit: .pad), width: 8, height: 8)
        let picked = [5, 0, 5, 16]
        let subset = set.subset(picked)
        #expect(subset.count == 4 && subset.paths == picked.map { set.paths[$0] } && subset.labels == picked.map { set.labels[$0] })
        for (n, i) in picked.enumerated() { #expect(subset.image(n).pixels == set.image(i).pixels) }
        #expect(set.subset([]).count == 0 && set.subset([]).pixels.isEmpty)
    }

    @Test func thresholdTableByHand() {
        // NIH: a positive at 0.9 and one at 0.4, a negative at 0.6. IML: a negative at 0.2.
        let p: [CrossValidation.Prediction] = [
            .init(path: "a", group: "P1", label: 0, probabilities: [0.9, 0.1], fold: 0),
            .init(path: "b", group: "P1", label: 0, probabilities: [0.4, 0.6], fold: 0),
            .init(path: "c", group: "P2", label: 1, probabilities: [0.6, 0.4], fold: 1),
            .init(path: "d", group: "PA17001", label: 1, probabilities: [0.2, 0.8], fold: 1),
        ]
        let rows = CrossValidation.thresholdTable(p, positive: 0, thresholds: [0.3, 0.5, 0.95])
        #expect(rows.map(\.sensitivity) == [1, 0.5, 0])
        #expect(rows.map(\.specificity) == [0.5, 0.5, 1])
        #expect(rows[1].sources == [.init(name: "IML", images: 1, positives: 0, calledPositive: 0, sensitivity: nil, specificity: 1),
                                     .init(name: "NIH", images: 3, positives: 2, calledPositive: 2, sensitivity: 0.5, specificity: 0)])
        let summary = CrossValidation.summarize(p, classNames: ["parasitized", "uninfected"], positive: 0)
        #expect(summary.thresholds?.count == CrossValidation.tabulatedThresholds.count)
        #expect(summary.thresholds?.first { $0.threshold == 0.5 }?.sensitivity == 0.5)
        #expect(summary.ece != nil && summary.reliability?.count == 10)
        #expect(CrossValidation.summarize(p, classNames: ["a", "b"], positive: nil).thresholds == nil)
    }
}
