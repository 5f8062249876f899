/// How a model was trained, stored in its model file (shown by `smear evaluate` and in the model card).
public struct TrainingRecord: Codable, Equatable, Sendable {
    /// The data set folder as given to `smear train`.
    public var dataset: String
    /// Regular expression whose first capture group is the split group (e.g. the patient).
    public var groupPattern: String
    public var validationFraction: Double
    public var seed: UInt64
    public var trainImages: Int, validationImages: Int
    public var trainGroups: Int, validationGroups: Int
    public var optimizer: String
    public var batchSize: Int
    /// Epochs run, and the epoch (1-based) whose weights were kept.
    public var epochs: Int, bestEpoch: Int
    /// Validation figures of the kept epoch.
    public var validationAccuracy: Double, validationAUC: Double?, validationLoss: Double
    /// Model this one was fine-tuned from (`--init`), if any.
    public var initialisedFrom: String?
    /// The command line that trained it.
    public var command: String
    public var seconds: Double

    public init(dataset: String, groupPattern: String, validationFraction: Double, seed: UInt64,
                trainImages: Int, validationImages: Int, trainGroups: Int, validationGroups: Int,
                optimizer: String, batchSize: Int, epochs: Int, bestEpoch: Int, validationAccuracy: Double,
                validationAUC: Double?, validationLoss: Double, initialisedFrom: String?, command: String, seconds: Double) {
        self.dataset = dataset; self.groupPattern = groupPattern; self.validationFraction = validationFraction
        self.seed = seed; self.trainImages = trainImages; self.validationImages = validationImages
        self.trainGroups = trainGroups; self.validationGroups = validationGroups; self.optimizer = optimizer
        self.batchSize = batchSize; self.epochs = epochs; self.bestEpoch = bestEpoch
        self.validationAccuracy = validationAccuracy; self.validationAUC = validationAUC
        self.validationLoss = validationLoss; self.initialisedFrom = initialisedFrom; self.command = command
        self.seconds = seconds
    }

    /// Why this record is not one `smear train` can have written, or nil: `validationFraction` (which
    /// `smear evaluate --split` uses with `seed` to pick the held-out groups), `validationAccuracy` and
    /// `validationAUC` are fractions in [0, 1]; the image and group counts are ≥ 0, `batchSize` ≥ 1,
    /// 1 ≤ `bestEpoch` ≤ `epochs`; `validationLoss` and `seconds` are finite and ≥ 0.
    var problem: String? {
        func fraction(_ v: Double) -> Bool { v >= 0 && v <= 1 }
        func amount(_ v: Double) -> Bool { v >= 0 && v.isFinite }
        let checks: [(Bool, String)] = [
            (fraction(validationFraction), "validationFraction \(validationFraction) is not in [0, 1]"),
            (min(trainImages, validationImages, trainGroups, validationGroups) >= 0, "a negative image or group count"),
            (batchSize >= 1, "batchSize \(batchSize) is below 1"),
            (bestEpoch >= 1 && bestEpoch <= epochs, "bestEpoch \(bestEpoch) is not in 1...epochs (\(epochs))"),
            (fraction(validationAccuracy), "validationAccuracy \(validationAccuracy) is not in [0, 1]"),
            (validationAUC.map(fraction) ?? true, "validationAUC \(validationAUC ?? 0) is not in [0, 1]"),
            (amount(validationLoss), "validationLoss \(validationLoss) is not a finite value ≥ 0"),
            (amount(seconds), "seconds \(seconds) is not a finite value ≥ 0"),
        ]
        return checks.first { !$0.0 }.map { "training record: " + $0.1 }
    }
}
