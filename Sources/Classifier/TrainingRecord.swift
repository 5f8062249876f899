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
}
