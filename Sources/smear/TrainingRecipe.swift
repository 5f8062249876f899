import ArgumentParser
import Classifier
import NeuralNetwork

/// The training recipe `train` and `cv` share: architecture, preprocessing, optimizer, schedule,
/// augmentation, grouping and seed. `cv` trains every fold model with it, so a recipe scored by
/// cross-validation is the one `train` then runs.
struct TrainingRecipe: ParsableArguments {
    @Option(help: "Architecture preset or spec text (see the discussion).")
    var arch: String = "cells"

    @Option(help: "How crops become square inputs: pad (centre on black, keep aspect) or stretch.")
    var fit: Preprocessing.Fit = .pad

    @Option(help: ArgumentHelp("Ring of the field that the crops from fields keep around the cell, as a fraction of the cell's longer side (0-0.5; 0: the cell alone on black).",
                               discussion: "Recorded in the model, so that `analyze` cuts cells the way it was trained (with --init, the --init model's is kept). The data set's field crops must be cut with the same value (`smear crops --crop-context`); crops cut on black, such as NIH's, are taken as they are."))
    var context: Float = 0

    @Option(help: "Maximum number of epochs.")
    var epochs: Int = 40

    @Option(help: "Images per training step.")
    var batchSize: Int = 64

    @Option(help: "adam (with decoupled weight decay) or sgd (with momentum).")
    var optimizer: OptimizerSettings.Kind = .adam

    @Option(help: "Peak learning rate (after a linear warm-up, decays along a cosine to 0 at the last epoch).")
    var learningRate: Float = 0.002

    @Option(help: "Weight decay on convolution and dense kernels.")
    var weightDecay: Float = 0.005

    @Option(help: "SGD momentum or Adam β1.")
    var momentum: Float = 0.9

    @Option(help: "Warm-up epochs.")
    var warmup: Int = 1

    @Option(help: "Label smoothing of the cross-entropy targets (helps with label noise).")
    var labelSmoothing: Float = 0.05

    @Option(help: "Regular expression giving each file's group (first capture group that matched, else the whole match).")
    var groupPattern: String = GroupKey.nihPattern

    @Option(help: "Seed of the initial weights, the split, the shuffling and the augmentation.")
    var seed: UInt64 = 1

    @Flag(help: "Turn augmentation off (flips, 90° rotations, brightness, contrast, hue).")
    var noAugment = false

    @Option(help: "Augmentation: brightness change up to ±this fraction.")
    var brightness: Float = 0.1

    @Option(help: "Augmentation: contrast change up to ±this fraction.")
    var contrast: Float = 0.1

    @Option(help: "Augmentation: hue rotation up to ±this many radians.")
    var hue: Float = 0.05

    @Option(help: ArgumentHelp("Augmentation: half of the crops stored as JPEG once more, at a quality from this up to 95 (0: never).",
                               discussion: "Teaches the classifier the loss of a JPEG generation, as in fields and slide tiles saved as JPEG again."))
    var jpeg: Int = 0

    @Option(help: "Validate and save a moving average of the weights with this decay per step (0: the raw weights).")
    var average: Float = 0.999

    func validate() throws {
        guard (0...Augmentation.bestJPEGQuality).contains(jpeg) else { throw ValidationError("--jpeg must be 0 (never) or a JPEG quality of 1-95") }
        guard Preprocessing.contexts.contains(context) else { throw ValidationError("--context must be between 0 and 0.5") }
    }

    /// This recipe as command-line options, every one spelled out: parsing them gives the same recipe,
    /// and options after them override them (the last of a repeated option wins).
    var arguments: [String] {
        var a = ["--arch", arch, "--fit", fit.rawValue, "--context", "\(context)", "--epochs", "\(epochs)", "--batch-size", "\(batchSize)",
                 "--optimizer", optimizer.rawValue, "--learning-rate", "\(learningRate)", "--weight-decay", "\(weightDecay)",
                 "--momentum", "\(momentum)", "--warmup", "\(warmup)", "--label-smoothing", "\(labelSmoothing)",
                 "--group-pattern", groupPattern, "--seed", "\(seed)", "--brightness", "\(brightness)", "--contrast", "\(contrast)",
                 "--hue", "\(hue)", "--jpeg", "\(jpeg)", "--average", "\(average)"]
        if noAugment { a.append("--no-augment") }
        return a
    }

    /// A new model of this architecture for `classNames`, its weights drawn from `seed`.
    func newModel(classNames: [String]) throws -> Model {
        let spec = try NetworkSpec.preset(arch) ?? NetworkSpec(parsing: arch)
        return Model(network: Network(spec: spec.resolved(classes: classNames.count), seed: seed), classNames: classNames,
                     preprocessing: Preprocessing(fit: fit, context: context))
    }

    /// The trainer's options; `patience` 0 trains every epoch.
    func options(patience: Int) -> TrainingOptions {
        TrainingOptions(
            epochs: epochs, batchSize: batchSize,
            optimizer: OptimizerSettings(kind: optimizer, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum),
            warmupEpochs: warmup, patience: patience, labelSmoothing: labelSmoothing,
            augmentation: noAugment ? .none : Augmentation(brightness: brightness, contrast: contrast, hue: hue, jpeg: jpeg), seed: seed,
            averageDecay: average)
    }
}
