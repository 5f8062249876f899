import NeuralNetwork

/// A trained classifier: the network with its weights plus everything needed to use it on images
/// (class names, preprocessing) and the record of how it was trained. Saved as one `.smnet` file
/// (see `ModelFile`).
public final class Model {
    public let network: Network
    public var classNames: [String]
    public var preprocessing: Preprocessing
    public var training: TrainingRecord?

    public init(network: Network, classNames: [String], preprocessing: Preprocessing, training: TrainingRecord? = nil) {
        precondition(classNames.count == network.classes, "\(classNames.count) class names for \(network.classes) outputs")
        self.network = network
        self.classNames = classNames
        self.preprocessing = preprocessing
        self.training = training
    }

    /// Index of the class named "Parasitized"/"parasitized" (any case), if there is one.
    public var positiveClassIndex: Int? { classNames.firstIndex { $0.lowercased() == "parasitized" } }

    /// Every saved tensor in file order: each layer's parameters, then each layer's state.
    var tensors: [Buffer] { network.parameters.map(\.value) + network.state }
}
