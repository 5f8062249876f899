import ArgumentParser
import Classifier
import Foundation
import ImageCodecs
import NeuralNetwork
import Pipeline

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a classifier on labelled images, or measure its speed.",
        discussion: """
            DATASET holds one subfolder per class, named as the model's classes (a subset is fine). Prints \
            accuracy, ROC AUC, macro F1, mean cross-entropy, the confusion matrix and per-class precision, \
            recall, F1 and AUC; --json prints the same as JSON on stdout. A model with the classes \
            Parasitized and Uninfected is scored at its decision threshold (--threshold, default its operating \
            point's, as analyze calls cells), any other at the argmax. --split validation scores only the \
            groups the model held out when it was trained (same pattern, fraction and seed as its training \
            record), --split train only the others.

            --speed instead times the network (of --model, or an untrained --arch) alone on synthetic inputs (inference mode, like a framework's \
            model call on a ready tensor) at each --batch-sizes entry, and the full path from crops of \
            --crop-size pixels (fit, resize, network), reporting the median of --repeats runs, the CPU time \
            per image of the network runs (all threads; steadier than wall time when other processes share \
            the cores) and the peak resident memory.
            """)

    enum Split: String, ExpressibleByArgument, CaseIterable { case all, validation, train }

    @Argument(help: "Folder with one subfolder of images per class (not needed with --speed).")
    var dataset: String?

    @Option(name: .shortAndLong, help: "Model file (default: the bundled model).")
    var model: String?

    @Option(help: "Which groups to score: all, validation (held out in training) or train.")
    var split: Split = .all

    @Option(help: ClassifierOptions.symmetriesHelp)
    var symmetries: Int?

    @Option(help: ClassifierOptions.thresholdHelp)
    var threshold: Double?

    @Flag(help: "Print the figures as JSON on stdout.")
    var json = false

    @Option(help: "Also list the N most confident mistakes (file, true class, predicted class, probability): label noise shows up here.")
    var mistakes: Int = 0

    @Flag(help: "Time inference instead of scoring a data set.")
    var speed = false

    @Option(help: "With --speed: time an untrained network of this preset or spec (2 classes) instead of a model.")
    var arch: String?

    @Option(help: "With --speed: comma-separated batch sizes.")
    var batchSizes: String = "1,256"

    @Option(help: "With --speed: timed runs per batch size (the median is reported).")
    var repeats: Int = 20

    @Option(help: "With --speed: side of the synthetic square crops for the full-path timing.")
    var cropSize: Int = 80

    @Option(help: "With --speed: also time training steps (forward, backward, Adam update) on synthetic batches of this size (0: no).")
    var trainBatch: Int = 0

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    mutating func run() throws {
        if let threads { Parallel.threads = threads }
        try ClassifierOptions.check(symmetries: symmetries)
        try ClassifierOptions.check(threshold: threshold)
        if let arch {
            guard speed else { throw ValidationError("--arch is only for --speed") }
            let spec = try NetworkSpec.preset(arch) ?? NetworkSpec(parsing: arch)
            guard spec.input.channels == 3 else { throw ValidationError("--arch: the network input must have 3 channels (RGB)") }
            let model = Model(network: Network(spec: spec.resolved(classes: 2), seed: 1), classNames: ["Parasitized", "Uninfected"],
                              preprocessing: Preprocessing())
            if let n = symmetries, let problem = OperatingPoint.symmetryProblem(n, inputWidth: spec.input.width, inputHeight: spec.input.height) {
                throw ValidationError("--symmetries: \(problem)")
            }
            return try runSpeed(CellClassifier(model: model, symmetries: symmetries))
        }
        let classifier = try ClassifierOptions.load(model, symmetries: symmetries, requirePositive: false)
        if speed { return try runSpeed(classifier) }
        guard let dataset else { throw ValidationError("give a DATASET folder (or --speed)") }
        let m = classifier.model
        let positive = m.classNames.count == 2 ? m.positiveClassIndex : nil
        guard positive != nil || threshold == nil else {
            throw PipelineError("\(model ?? "bundled model"): --threshold needs a model of two classes, one of them 'parasitized'")
        }
        let decisionThreshold = positive.map { _ in classifier.threshold(threshold) }
        let pattern = m.training?.groupPattern ?? GroupKey.nihPattern
        let folder = try LabelledFolder(root: dataset, groupKey: try GroupKey(pattern: pattern), classNames: m.classNames)
        var entries = folder.entries
        if split != .all {
            guard let t = m.training else { throw ValidationError("the model has no training record, so no split to follow") }
            entries = entries.filter { GroupKey.isValidation($0.group, fraction: t.validationFraction, seed: t.seed) == (split == .validation) }
        }
        guard !entries.isEmpty else { throw ValidationError("\(dataset): no images in the \(split.rawValue) split") }
        let shape = m.network.inputShape
        let set = try ImageSet(entries: entries, preprocessing: m.preprocessing, width: shape.width, height: shape.height)
        let probabilities: [[Float]]
        do { probabilities = try classifier.checkedProbabilities((0 ..< set.count).map { set.image($0) }) } catch {
            throw PipelineError("\(model ?? "bundled model"): " + error.message(for: set.paths[error.crop]))
        }
        let e = Evaluation(probabilities: probabilities, labels: set.labels, classNames: m.classNames, positive: m.positiveClassIndex,
                           threshold: decisionThreshold)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(e), as: UTF8.self))
            return
        }
        print("\(e.images) images, \(Set(entries.map(\.group)).count) groups (\(split.rawValue)), \(Self.symmetriesText(classifier.symmetries)), "
              + (e.threshold.map { "parasitized at P ≥ \($0)" } ?? "the most probable class"))
        print(String(format: "accuracy %.2f%%  ROC AUC %@  macro F1 %.4f  loss %.4f", 100 * e.accuracy,
                     e.auc.map { String(format: "%.4f", $0) } ?? "n/a", e.macroF1, e.loss))
        let width = max(12, (m.classNames.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        print("\nconfusion (rows: true class, columns: predicted)")
        print(pad("") + m.classNames.map(pad).joined())
        for (c, row) in e.confusion.enumerated() { print(pad(m.classNames[c]) + row.map { pad(String($0)) }.joined()) }
        print("\n" + pad("class") + ["support", "precision", "recall", "F1", "AUC"].map(pad).joined())
        for c in e.classes {
            print(pad(c.name) + [String(c.support), String(format: "%.4f", c.precision), String(format: "%.4f", c.recall),
                                 String(format: "%.4f", c.f1), c.auc.map { String(format: "%.4f", $0) } ?? "n/a"].map(pad).joined())
        }
        if mistakes > 0 {
            let wrong = (0 ..< set.count).compactMap { i -> (Int, Int, Float)? in
                let p = probabilities[i], predicted = Evaluation.decision(p, positive: positive, threshold: decisionThreshold)
                return predicted == set.labels[i] ? nil : (i, predicted, p[predicted])
            }.sorted { $0.2 > $1.2 }.prefix(mistakes)
            print("\nmost confident mistakes")
            for (i, predicted, p) in wrong {
                print("\(set.paths[i]): \(m.classNames[set.labels[i]]) predicted \(m.classNames[predicted]) \(String(format: "%.4f", p))")
            }
        }
    }

    /// "4 test-time symmetries" / "no test-time symmetries".
    static func symmetriesText(_ n: Int) -> String { n == 1 ? "no test-time symmetries" : "\(n) test-time symmetries" }

    private func runSpeed(_ classifier: CellClassifier) throws {
        let sizes = batchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch-sizes: give positive integers, e.g. 1,256") }
        let net = classifier.model.network
        print("network: \(net.spec); \(Self.symmetriesText(classifier.symmetries)) in the full path")
        print(String(format: "%.2f MFLOP per image, %d parameters, %d threads, OpenBLAS kernels %@",
                     Double(net.spec.flopsPerSample) / 1e6, net.parameterCount, Parallel.threads, Parallel.blasCore))
        var rng = SeededGenerator(seed: 1)
        for batch in sizes {
            let input = Buffer((0 ..< batch * net.inputShape.count).map { _ in rng.uniform() })
            let cpuBefore = processCPUSeconds()
            let network = median(repeats) { net.forward(input.pointer, batch: batch, mode: .inference) }
            let cpuPerImage = (processCPUSeconds() - cpuBefore) / Double((repeats + 1) * batch)
            let w = cropSize, h = cropSize * 3 / 4
            var crops: [RGBImage] = []
            for _ in 0 ..< batch {
                let pixels = (0 ..< w * h * 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                crops.append(RGBImage(width: w, height: h, pixels: pixels))
            }
            let cpuBeforeCrops = processCPUSeconds()
            let full = median(repeats) { _ = classifier.probabilities(crops) }
            let cpuPerCell = (processCPUSeconds() - cpuBeforeCrops) / Double((repeats + 1) * batch)
            print(String(format: "batch %4d: network %8.3f ms = %8.0f images/s (%.1f GFLOP/s, %.1f µs CPU per image) | from %d×%d crops %8.3f ms = %8.0f cells/s (%.1f µs CPU per cell)",
                         batch, network * 1e3, Double(batch) / network, Double(batch * net.spec.flopsPerSample) / network / 1e9,
                         cpuPerImage * 1e6, w, h, full * 1e3, Double(batch) / full, cpuPerCell * 1e6))
        }
        if trainBatch > 0 {
            // Training steps on a fixed synthetic batch: the engine's share of `smear train` (no decoding,
            // augmentation or validation). The weights change, so run it after the inference timings.
            let k = net.classes, per = net.inputShape.count
            let input = Buffer((0 ..< trainBatch * per).map { _ in rng.uniform() })
            let labels = (0 ..< trainBatch).map { $0 % k }
            let p = Buffer(count: trainBatch * k), d = Buffer(count: trainBatch * k)
            let optimizer = Optimizer(OptimizerSettings(kind: .adam, learningRate: 1e-4), parameters: net.parameters)
            let cpuBefore = processCPUSeconds()
            let step = median(repeats) {
                let logits = net.forward(input.pointer, batch: trainBatch, mode: .training)
                _ = softmaxCrossEntropy(logits: logits, labels: labels, classes: k, probabilities: p.pointer, dLogits: d.pointer)
                net.zeroGradients()
                net.backward(input.pointer, dLogits: d.pointer, batch: trainBatch, mode: .training)
                optimizer.update(learningRate: 1e-4)
            }
            let cpuPerImage = (processCPUSeconds() - cpuBefore) / Double((repeats + 1) * trainBatch)
            print(String(format: "training step, batch %d: %8.3f ms = %8.0f images/s (%.1f µs CPU per image)",
                         trainBatch, step * 1e3, Double(trainBatch) / step, cpuPerImage * 1e6))
        }
        print(String(format: "peak resident memory %.0f MB", Double(peakResidentBytes()) / 1e6))
    }

    /// Median wall time in seconds of `runs` calls after one warm-up call.
    private func median(_ runs: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0 ..< max(1, runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}

extension Evaluate.Split: Sendable {}
