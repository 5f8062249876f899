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

    /// Throws the one-line error for a data set with fewer groups than folds (some fold would be empty).
    public static func checkEnoughGroups(_ groups: Int, folds: Int, dataset: String) throws {
        guard groups >= folds else {
            throw DatasetError(description: "\(dataset): \(groups) groups, too few for \(folds) folds (check --group-pattern)")
        }
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
        /// Calibration of the pooled positive-class probability: ten bins and the expected calibration
        /// error (nil without a positive class).
        public var reliability: [Curves.Bin]?, ece: Double?
        /// Calls at other decision thresholds on the positive-class probability (nil without one).
        public var thresholds: [ThresholdRow]?
        /// The same folds' figures with test-time augmentation (see `Outcome.symmetric`), when measured.
        public var testTimeSymmetries: [SymmetryFigures]?
    }

    /// Figures of the out-of-fold predictions averaged over the first `symmetries` symmetries of the square.
    public struct SymmetryFigures: Codable, Sendable {
        public var symmetries: Int
        public var accuracy: Spread?, auc: Spread?
        public var pooledAccuracy: Double, pooledAUC: Double?
        public var ece: Double?
        public var sources: [Part]
        /// The threshold table of these averaged predictions (`thresholdTable`).
        public var thresholds: [ThresholdRow]?

        public init(symmetries: Int, summary: Summary) {
            self.symmetries = symmetries
            accuracy = summary.accuracy; auc = summary.auc
            pooledAccuracy = summary.pooled.accuracy; pooledAUC = summary.pooled.auc
            ece = summary.ece; sources = summary.sources; thresholds = summary.thresholds
        }
    }

    /// What a decision threshold t (positive when p ≥ t) would give, pooled and per source.
    public struct ThresholdRow: Codable, Sendable, Equatable {
        public var threshold: Double
        public var sensitivity: Double?, specificity: Double?
        /// Per source: images, true positives, and images called positive at this threshold. Called over
        /// true positives is the count bias the parasitemia of that source's fields would have.
        public var sources: [SourceCalls]
    }

    public struct SourceCalls: Codable, Sendable, Equatable {
        public var name: String
        public var images: Int, positives: Int, calledPositive: Int
        public var sensitivity: Double?, specificity: Double?
    }

    /// The thresholds `summarize` tabulates: 0.05 to 0.95 in steps of 0.05, then 0.97 and 0.99.
    public static let tabulatedThresholds: [Double] = (1...19).map { Double($0) / 20 } + [0.97, 0.99]

    /// The figures of calling an image positive when its probability of class `positive` is ≥ each of
    /// `thresholds`, pooled and per source. Cost: O(images · thresholds).
    public static func thresholdTable(_ predictions: [Prediction], positive: Int, thresholds: [Double]) -> [ThresholdRow] {
        let bySource = Dictionary(grouping: predictions) { source(ofGroup: $0.group) }
        return thresholds.map { t in
            let called = { (x: Prediction) in Double(x.probabilities[positive]) >= t }
            let all = BinaryCounts(predictions, positive: positive, called: called)
            let sources = bySource.keys.sorted().map { name in
                let c = BinaryCounts(bySource[name]!, positive: positive, called: called)
                return SourceCalls(name: name, images: bySource[name]!.count, positives: c.tp + c.fn, calledPositive: c.tp + c.fp,
                                   sensitivity: c.sensitivity, specificity: c.specificity)
            }
            return ThresholdRow(threshold: t, sensitivity: all.sensitivity, specificity: all.specificity, sources: sources)
        }
    }

    /// The figures of `predictions` (one per image), per fold (with `seconds`, each fold's training
    /// time), pooled, per source and per group, with the calibration and the threshold table of the
    /// pooled predictions; `positive` is the class sensitivity refers to.
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
        let calibration = positive.map { c in
            Curves.reliability(probabilities: predictions.map { $0.probabilities[c] }, positives: predictions.map { $0.label == c })
        }
        return Summary(folds: folds, accuracy: Spread(folds.map(\.accuracy)), auc: Spread(folds.map(\.auc)),
                       sensitivity: Spread(folds.map(\.sensitivity)), specificity: Spread(folds.map(\.specificity)),
                       precision: Spread(folds.map(\.precision)), f1: Spread(folds.map(\.f1)), pooled: pooled,
                       sources: parts({ source(ofGroup: $0.group) }, overFolds: true).sorted { $0.name < $1.name },
                       groups: parts(\.group, overFolds: false).sorted { ($0.accuracy, -$0.images, $0.name) < ($1.accuracy, -$1.images, $1.name) },
                       reliability: calibration?.bins, ece: calibration?.ece,
                       thresholds: positive.map { thresholdTable(predictions, positive: $0, thresholds: tabulatedThresholds) })
    }

    /// Sensitivity, specificity, precision and F1 of the positive class (nil where undefined), calling
    /// an image positive when it is the predicted class.
    static func binary(_ p: [Prediction], positive: Int?) -> (Double?, Double?, Double?, Double?) {
        guard let c = positive else { return (nil, nil, nil, nil) }
        let counts = BinaryCounts(p, positive: c) { $0.predicted == c }
        return (counts.sensitivity, counts.specificity, counts.precision, counts.f1)
    }

    /// The confusion counts of calling the images `called` accepts positive for class `positive`, and
    /// the rates they give (nil where a denominator is 0). Cost: O(images).
    struct BinaryCounts {
        var tp = 0, fn = 0, fp = 0, tn = 0

        init(_ p: [Prediction], positive: Int, called: (Prediction) -> Bool) {
            for x in p {
                switch (x.label == positive, called(x)) {
                case (true, true): tp += 1
                case (true, false): fn += 1
                case (false, true): fp += 1
                case (false, false): tn += 1
                }
            }
        }

        var sensitivity: Double? { tp + fn > 0 ? Double(tp) / Double(tp + fn) : nil }
        var specificity: Double? { tn + fp > 0 ? Double(tn) / Double(tn + fp) : nil }
        var precision: Double? { tp + fp > 0 ? Double(tp) / Double(tp + fp) : nil }
        var f1: Double? { sensitivity.flatMap { s in precision.map { p in s + p > 0 ? 2 * s * p / (s + p) : 0 } } }
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

extension CrossValidation {
    /// One epoch of one fold's training, for training curves. The held-out figures are only looked at:
    /// nothing (epoch, weights, threshold) is chosen by them.
    public struct EpochPoint: Codable, Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double, trainAccuracy: Double
        public var heldOutLoss: Double, heldOutAccuracy: Double

        public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, heldOutLoss: Double, heldOutAccuracy: Double) {
            self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
            self.heldOutLoss = heldOutLoss; self.heldOutAccuracy = heldOutAccuracy
        }
    }

    /// Where a cross-validation run is, after every training batch.
    public struct Progress: Sendable {
        /// 0-based fold, and the number of folds.
        public var fold: Int, folds: Int
        public var epoch: EpochProgress
        /// Estimated seconds until the last fold is done.
        public var secondsLeft: Double
    }

    /// What training all the folds produced.
    public struct Outcome: Sendable {
        /// One out-of-fold prediction per image, in fold order.
        public var predictions: [Prediction]
        /// Wall-clock seconds of each fold (decoding excluded).
        public var seconds: [Int: Double]
        /// Each fold's training curve, one point per epoch.
        public var curves: [[EpochPoint]]
        /// Each fold's rate of classifying its held-out images (batches of 256, all threads), in images/s.
        public var imagesPerSecond: [Double]
        /// Size of one fold model's file in float16 weights, in bytes.
        public var modelBytes: Int
        /// The same images predicted by the same fold models, each averaged over the first n symmetries
        /// of the square (the n asked for; `Trainer.predict(_:symmetries:)`), by n; empty for non-square inputs.
        public var symmetric: [Int: [Prediction]]

        public init(predictions: [Prediction], seconds: [Int: Double], curves: [[EpochPoint]], imagesPerSecond: [Double], modelBytes: Int,
                    symmetric: [Int: [Prediction]] = [:]) {
            self.predictions = predictions; self.seconds = seconds; self.curves = curves
            self.imagesPerSecond = imagesPerSecond; self.modelBytes = modelBytes; self.symmetric = symmetric
        }
    }

    /// Trains one model per fold on `entries` and predicts each held-out fold: model k (a new
    /// `makeModel()`) is trained on every entry whose group is not in fold k, for all `options.epochs`
    /// (no early stop, so the held-out fold chooses nothing), and its evaluation weights (the moving
    /// average, if enabled) predict fold k. Images are decoded once, at the model's input size.
    /// With `testTimeSymmetries` (each 2, 4 or 8), the same models also predict fold k averaged over that
    /// many symmetries of the square (`Outcome.symmetric`), one more pass of fold k per symmetry.
    /// `foldDone(k, model, predictions)` is called with the evaluation weights in place (to save the fold
    /// model) and fold k's predictions.
    /// Throws if an image cannot be read, a fold has fewer training images than a batch, or training
    /// diverges. Cost: folds × epochs × (training set + held-out set) passes.
    public static func train(entries: [LabelledFolder.Entry], foldOf: [String: Int], folds: Int, options: TrainingOptions,
                             testTimeSymmetries: [Int] = [], makeModel: () throws -> Model, progress: (Progress) -> Void = { _ in },
                             foldDone: (Int, Model, [Prediction]) throws -> Void = { _, _, _ in }) throws -> Outcome {
        let first = try makeModel(), shape = first.network.inputShape
        let all = try ImageSet(entries: entries, preprocessing: first.preprocessing, width: shape.width, height: shape.height)
        var outcome = Outcome(predictions: [], seconds: [:], curves: [], imagesPerSecond: [], modelBytes: 0)
        let started = Date()
        for k in 0 ..< folds {
            let foldStart = Date()
            let testIndices = entries.indices.filter { foldOf[entries[$0].group] == k }
            let trainIndices = entries.indices.filter { foldOf[entries[$0].group] != k }
            guard trainIndices.count >= options.batchSize else {
                throw TrainingError(description: "fold \(k + 1): only \(trainIndices.count) training images for batches of \(options.batchSize)")
            }
            let model = k == 0 ? first : try makeModel()
            let test = all.subset(testIndices)
            let trainer = Trainer(model: model, train: all.subset(trainIndices), validation: test.count > 0 ? test : nil, options: options)
            var curve: [EpochPoint] = []
            while !trainer.finished {
                let summary = trainer.runEpoch { p in
                    let done = Double(k) + (Double(p.epoch - 1) + Double(p.batch) / Double(p.batches)) / Double(options.epochs)
                    let elapsed = Date().timeIntervalSince(started)
                    progress(Progress(fold: k, folds: folds, epoch: p, secondsLeft: elapsed / max(done, 1e-9) * (Double(folds) - done)))
                }
                guard summary.loss.isFinite else {
                    throw TrainingError(description: "fold \(k + 1): training diverged in epoch \(summary.epoch); try a lower --learning-rate")
                }
                curve.append(EpochPoint(epoch: summary.epoch, trainLoss: summary.loss, trainAccuracy: summary.accuracy,
                                        heldOutLoss: summary.validation?.loss ?? .nan, heldOutAccuracy: summary.validation?.accuracy ?? .nan))
            }
            let predictStart = Date()
            let probabilities = trainer.withEvaluationWeights { trainer.predict(test) }
            outcome.imagesPerSecond.append(Double(test.count) / max(Date().timeIntervalSince(predictStart), 1e-9))
            for (i, p) in zip(testIndices, probabilities) {
                outcome.predictions.append(Prediction(path: entries[i].path, group: entries[i].group, label: entries[i].label, probabilities: p, fold: k))
            }
            if shape.width == shape.height {
                for n in testTimeSymmetries {
                    let averaged = trainer.withEvaluationWeights { trainer.predict(test, symmetries: n) }
                    for (i, p) in zip(testIndices, averaged) {
                        outcome.symmetric[n, default: []].append(Prediction(path: entries[i].path, group: entries[i].group, label: entries[i].label,
                                                                            probabilities: p, fold: k))
                    }
                }
            }
            outcome.curves.append(curve)
            outcome.seconds[k] = Date().timeIntervalSince(foldStart)
            try trainer.withEvaluationWeights {
                if k == 0 { outcome.modelBytes = ModelFile.encode(model, format: .float16).count }
                try foldDone(k, model, Array(outcome.predictions.suffix(testIndices.count)))
            }
        }
        return outcome
    }
}
