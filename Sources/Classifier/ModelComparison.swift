import Foundation

/// Several training recipes (architectures, preprocessing, augmentation, …) scored by grouped K-fold
/// cross-validation on the same folds, with everything needed to compare them by eye: figures with
/// their spread over folds, pooled ROC and precision–recall curves, and in each summary the pooled
/// confusion matrix and reliability; each fold's training curve. `smear compare` fills it;
/// `ComparisonPage` draws it.
public struct ModelComparison: Codable, Sendable {
    /// One recipe's cross-validation.
    public struct Candidate: Codable, Sendable {
        public var name: String
        /// The network spec text, and the training options as `smear train` flags.
        public var spec: String, recipe: String
        public var parameters: Int
        /// Size of a fold model's file (float16 weights), in bytes.
        public var modelBytes: Int
        /// Median over folds of the held-out classification rate (batches of 256, all threads), images/s.
        public var imagesPerSecond: Double
        public var trainingSeconds: Double
        public var summary: CrossValidation.Summary
        /// Pooled out-of-fold curves of the positive class, thinned for drawing (nil without a positive
        /// class or without one of the classes).
        public var roc: [Curves.Point]?, precisionRecall: [Curves.Point]?
        public var averagePrecision: Double?
        /// Training curves, one per fold.
        public var curves: [[CrossValidation.EpochPoint]]

        /// The figures of `outcome`, the cross-validation of one recipe.
        public init(name: String, spec: String, recipe: String, parameters: Int, outcome: CrossValidation.Outcome, classNames: [String],
                    positive: Int?) {
            self.name = name; self.spec = spec; self.recipe = recipe; self.parameters = parameters
            modelBytes = outcome.modelBytes
            let rates = outcome.imagesPerSecond.sorted()
            imagesPerSecond = rates.isEmpty ? 0 : rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
            trainingSeconds = outcome.seconds.values.reduce(0, +)
            summary = CrossValidation.summarize(outcome.predictions, classNames: classNames, positive: positive, seconds: outcome.seconds)
            curves = outcome.curves
            if let c = positive {
                let scores = outcome.predictions.map { $0.probabilities[c] }, positives = outcome.predictions.map { $0.label == c }
                roc = Curves.roc(scores: scores, positives: positives).map { Curves.thin($0) }
                let pr = Curves.precisionRecall(scores: scores, positives: positives)
                averagePrecision = pr.map(Curves.averagePrecision)
                precisionRecall = pr.map { Curves.thin($0) }
            }
        }
    }

    public var dataset: String
    public var folds: Int
    public var images: Int, groups: Int
    public var classNames: [String]
    /// The class sensitivity, precision and the curves refer to.
    public var positiveClass: String?
    public var candidates: [Candidate]

    public init(dataset: String, folds: Int, images: Int, groups: Int, classNames: [String], positiveClass: String?, candidates: [Candidate]) {
        self.dataset = dataset; self.folds = folds; self.images = images; self.groups = groups
        self.classNames = classNames; self.positiveClass = positiveClass; self.candidates = candidates
    }
}
