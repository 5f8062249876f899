import Foundation
import NeuralNetwork

/// Hyper-parameters of a training run.
public struct TrainingOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerSettings
    /// Linear warm-up length, then cosine decay of the learning rate to 0 at `epochs`.
    public var warmupEpochs: Int
    /// Stop after this many epochs without a better validation score (0: never).
    public var patience: Int
    public var labelSmoothing: Float
    public var augmentation: Augmentation
    public var seed: UInt64
    /// Decay of the exponential moving average of the weights that is validated and saved
    /// (`a ← d·a + (1 − d)·w` after every step, d = `Trainer.averageDecay(_:step:)`: this decay once
    /// past a warm-up); 0 validates and saves the raw weights.
    public var averageDecay: Float

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerSettings, warmupEpochs: Int = 1, patience: Int = 0,
                labelSmoothing: Float = 0, augmentation: Augmentation = Augmentation(), seed: UInt64 = 1, averageDecay: Float = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.warmupEpochs = warmupEpochs
        self.patience = patience; self.labelSmoothing = labelSmoothing; self.augmentation = augmentation; self.seed = seed
        self.averageDecay = averageDecay
    }
}

/// Live figures of the epoch in progress, for a progress bar.
public struct EpochProgress: Sendable {
    public var epoch: Int, batch: Int, batches: Int
    public var loss: Double, accuracy: Double, imagesPerSecond: Double, secondsLeft: Double
}

/// What one epoch achieved.
public struct EpochSummary: Sendable {
    public var epoch: Int
    public var loss: Double, accuracy: Double, learningRate: Float
    public var seconds: Double, imagesPerSecond: Double
    /// Process CPU time (all threads) of the training part of the epoch: steadier than `seconds` when
    /// other processes share the cores.
    public var cpuSeconds: Double
    public var validation: Evaluation?
    /// Whether this epoch beat every earlier one (and so is the one to keep).
    public var improved: Bool
}

/// Mini-batch training of a `Model` on 8-bit images already fitted to the input size.
///
/// Each epoch shuffles the training set, augments every image with a generator derived from
/// (seed, epoch, position) — so a run is reproducible and resumable — runs forward, softmax
/// cross-entropy, backward and one optimizer step per batch, then evaluates the validation set in
/// inference mode. The score for keeping an epoch is validation accuracy (ties: lower loss). With
/// `averageDecay` the validated (and saved) weights are a moving average of the trained ones.
public final class Trainer {
    public let model: Model
    public let options: TrainingOptions
    public let train: ImageSet, validation: ImageSet?
    public let optimizer: Optimizer
    public private(set) var epochsDone = 0
    public private(set) var bestEpoch = 0
    public private(set) var bestScore = -Double.infinity
    private let input: Buffer, probabilities: Buffer, dLogits: Buffer
    /// Moving averages of the parameters (empty when `averageDecay` is 0).
    private let averages: [Buffer]

    public init(model: Model, train: ImageSet, validation: ImageSet?, options: TrainingOptions,
                resume: (ModelFile.Checkpoint, [Float])? = nil) {
        self.model = model; self.train = train; self.validation = validation; self.options = options
        optimizer = Optimizer(resume?.0.settings ?? options.optimizer, parameters: model.network.parameters)
        let batch = max(options.batchSize, Self.evaluationBatch)
        input = Buffer(count: batch * model.network.inputShape.count)
        probabilities = Buffer(count: batch * model.network.classes)
        dLogits = Buffer(count: batch * model.network.classes)
        averages = options.averageDecay > 0 ? model.network.parameters.map { Buffer($0.value.array) } : []
        if let (state, moments) = resume {
            optimizer.step = state.step
            epochsDone = state.epoch; bestEpoch = state.bestEpoch; bestScore = state.bestScore
            var offset = 0
            for b in optimizer.first + optimizer.second + averages {
                for i in 0 ..< b.count { b[i] = moments[offset + i] }
                offset += b.count
            }
        }
    }

    static let evaluationBatch = 256

    /// The moving-average decay after optimizer step `step` (1-based): min(`decay`, (1 + step) / (10 + step)).
    /// Without the warm-up the average would keep the random initial weights for about 1 / (1 − decay)
    /// steps (1,000 at 0.999, about 4 NIH epochs), so a short run's averaged model would lag its training
    /// by several epochs; with it, step 1 keeps 2/11 of the start, and from about step 8,990 on (at 0.999) the
    /// decay is `decay` itself.
    public static func averageDecay(_ decay: Float, step: Int) -> Float {
        min(decay, Float(1 + step) / Float(10 + step))
    }

    /// Steps per epoch (the last partial batch is dropped so BatchNorm never sees a tiny batch).
    public var stepsPerEpoch: Int { max(1, train.count / options.batchSize) }

    /// Warm-up then cosine schedule, as a function of the global step.
    public func learningRate(step: Int) -> Float {
        let peak = optimizer.settings.learningRate
        let warm = Double(options.warmupEpochs * stepsPerEpoch), total = Double(options.epochs * stepsPerEpoch)
        let s = Double(step)
        if s < warm { return peak * Float((s + 1) / warm) }
        let t = min(1, (s - warm) / max(1, total - warm))
        return peak * Float(0.5 * (1 + cos(Double.pi * t)))
    }

    /// Whether early stopping or the epoch budget says to stop.
    public var finished: Bool {
        epochsDone >= options.epochs || (options.patience > 0 && bestEpoch > 0 && epochsDone - bestEpoch >= options.patience)
    }

    /// Trains one epoch, then validates. `progress` is called after every batch.
    public func runEpoch(progress: (EpochProgress) -> Void) -> EpochSummary {
        let epoch = epochsDone + 1
        var order = Array(0 ..< train.count)
        var shuffler = SeededGenerator(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch))
        order.shuffle(using: &shuffler)
        let net = model.network, k = net.classes, bs = options.batchSize
        let start = Date(), cpuStart = processCPUSeconds()
        var lossSum = 0.0, correct = 0, seen = 0
        var lr: Float = 0
        for step in 0 ..< stepsPerEpoch {
            let indices = Array(order[step * bs ..< min(order.count, (step + 1) * bs)])
            fill(indices, from: train, augment: true, epoch: epoch, position: step * bs)
            let logits = net.forward(input.pointer, batch: indices.count, mode: .training)
            let labels = indices.map { train.labels[$0] }
            let loss = softmaxCrossEntropy(logits: logits, labels: labels, classes: k, probabilities: probabilities.pointer,
                                           dLogits: dLogits.pointer, labelSmoothing: options.labelSmoothing)
            net.zeroGradients()
            net.backward(input.pointer, dLogits: dLogits.pointer, batch: indices.count, mode: .training)
            lr = learningRate(step: optimizer.step)
            optimizer.update(learningRate: lr)
            let d = Self.averageDecay(options.averageDecay, step: optimizer.step)
            for (a, p) in zip(averages, net.parameters) {
                let ap = a.pointer, w = p.value.pointer
                Parallel.forEachSlice(a.count, minimumPerThread: 16_384) { range, _ in
                    for i in range { ap[i] = d * ap[i] + (1 - d) * w[i] }
                }
            }
            lossSum += Double(loss) * Double(indices.count)
            for (n, y) in labels.enumerated() {
                let row = probabilities.pointer + n * k
                if (0 ..< k).max(by: { row[$0] < row[$1] }) == y { correct += 1 }
            }
            seen += indices.count
            let elapsed = Date().timeIntervalSince(start), rate = Double(seen) / max(elapsed, 1e-9)
            progress(EpochProgress(epoch: epoch, batch: step + 1, batches: stepsPerEpoch, loss: lossSum / Double(seen),
                                   accuracy: Double(correct) / Double(seen), imagesPerSecond: rate,
                                   secondsLeft: Double(stepsPerEpoch * bs - seen) / rate))
        }
        let seconds = Date().timeIntervalSince(start), cpu = processCPUSeconds() - cpuStart
        let evaluation = validation.map { set in withEvaluationWeights { evaluate(set) } }
        epochsDone = epoch
        let score = evaluation.map { $0.accuracy - 1e-6 * $0.loss } ?? Double(epoch)
        let improved = score > bestScore
        if improved { bestScore = score; bestEpoch = epoch }
        return EpochSummary(epoch: epoch, loss: lossSum / Double(max(seen, 1)), accuracy: Double(correct) / Double(max(seen, 1)),
                            learningRate: lr, seconds: seconds, imagesPerSecond: Double(seen) / max(seconds, 1e-9), cpuSeconds: cpu,
                            validation: evaluation, improved: improved)
    }

    /// Figures of the current weights on `set` (inference mode, no augmentation).
    public func evaluate(_ set: ImageSet) -> Evaluation {
        Evaluation(probabilities: predict(set), labels: set.labels, classNames: model.classNames, positive: model.positiveClassIndex)
    }

    /// Class probabilities of every image of `set`, in batches of 256. With `symmetries` n > 1 (2, 4 or
    /// 8; square inputs only), each is the mean of the probabilities of the image under the first n
    /// symmetries of the square (`Augmentation.source`: identity, horizontal flip, vertical flip, 180°
    /// rotation, then the four with x and y swapped): test-time augmentation, n times the cost.
    public func predict(_ set: ImageSet, symmetries: Int = 1) -> [[Float]] {
        precondition([1, 2, 4, 8].contains(symmetries) && (symmetries == 1 || set.width == set.height))
        let k = model.network.classes
        var result: [[Float]] = []
        result.reserveCapacity(set.count)
        for start in stride(from: 0, to: set.count, by: Self.evaluationBatch) {
            let indices = Array(start ..< min(set.count, start + Self.evaluationBatch))
            var sums = [Float](repeating: 0, count: indices.count * k)
            for symmetry in 0 ..< symmetries {
                if symmetry == 0 { fill(indices, from: set, augment: false, epoch: 0, position: 0) } else { fillSymmetric(indices, from: set, symmetry: symmetry) }
                let logits = model.network.forward(input.pointer, batch: indices.count, mode: .inference)
                for n in 0 ..< indices.count {
                    softmax(logits + n * k, probabilities.pointer + n * k, k)
                    for c in 0 ..< k { sums[n * k + c] += probabilities.pointer[n * k + c] }
                }
            }
            for n in 0 ..< indices.count { result.append((0 ..< k).map { sums[n * k + $0] / Float(symmetries) }) }
        }
        return result
    }

    /// Runs `body` with the weights that are validated and saved (the moving average, if enabled) in the
    /// model, then puts the trained weights back.
    public func withEvaluationWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard !averages.isEmpty else { return try body() }
        let parameters = model.network.parameters, trained = parameters.map(\.value.array)
        for (p, a) in zip(parameters, averages) { p.value.pointer.update(from: a.pointer, count: a.count) }
        defer { for (p, t) in zip(parameters, trained) { p.value.set(t) } }
        return try body()
    }

    /// The state `--resume` needs: optimizer moments (then the weight averages) and counters.
    public func checkpoint() -> (ModelFile.Checkpoint, [Float]) {
        let moments = (optimizer.first + optimizer.second + averages).flatMap(\.array)
        return (ModelFile.Checkpoint(settings: optimizer.settings, step: optimizer.step, epoch: epochsDone,
                                     bestEpoch: bestEpoch, bestScore: bestScore, moments: moments.count), moments)
    }

    /// Converts images `indices` of `set` into the input buffer under one symmetry of the square.
    private func fillSymmetric(_ indices: [Int], from set: ImageSet, symmetry: Int) {
        let per = model.network.inputShape.count, bytes = set.bytesPerImage, side = set.width, scale = model.preprocessing.scale
        let input = input
        set.pixels.withUnsafeBufferPointer { pixels in
            nonisolated(unsafe) let src = pixels.baseAddress!
            Parallel.forEachSlice(indices.count) { range, _ in
                for n in range {
                    Augmentation.symmetric(src + indices[n] * bytes, side: side, symmetry: symmetry, scale: scale, into: input.pointer + n * per)
                }
            }
        }
    }

    /// Converts images `indices` of `set` into the input buffer, augmenting with per-image generators.
    private func fill(_ indices: [Int], from set: ImageSet, augment: Bool, epoch: Int, position: Int) {
        let per = model.network.inputShape.count, bytes = set.bytesPerImage
        let side = set.width, scale = model.preprocessing.scale
        var aug = augment ? options.augmentation : .none
        if set.width != set.height { aug.symmetries = false }
        let seed = options.seed, input = input
        set.pixels.withUnsafeBufferPointer { pixels in
            nonisolated(unsafe) let src = pixels.baseAddress!
            Parallel.forEachSlice(indices.count) { range, _ in
                for n in range {
                    let image = src + indices[n] * bytes, out = input.pointer + n * per
                    if augment {
                        var rng = SeededGenerator(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(position + n) &* 0x2545_F491_4F6C_DD1D)
                        aug.apply(image, side: side, scale: scale, into: out, rng: &rng)
                    } else {
                        model.preprocessing.planar(image, count: set.width * set.height, into: out)
                    }
                }
            }
        }
    }
}

/// Why training could not go on (e.g. it diverged); one line.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}

/// User + system CPU time of this process so far (all threads), in seconds.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
