import ArgumentParser
import Classifier
import Foundation
import NeuralNetwork
import Pipeline

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an image classifier on a folder of labelled images.",
        discussion: """
            DATASET holds one subfolder per class (any number of classes), e.g. DATASET/Parasitized/*.png and \
            DATASET/Uninfected/*.png. Images are split into training and validation by GROUP, never by file: the \
            group is taken from each file name by --group-pattern (default: the NIH patient, 'C33P1thinF_…' → P1, \
            'C1_thinF_…' → C1), and about --validation-fraction of the groups (chosen by a seeded hash) are held \
            out. Each epoch shows a progress bar, then the validation figures; the best epoch (validation \
            accuracy) is written to --out, and a checkpoint to OUT.checkpoint for --resume. Decoded images are \
            kept as 8-bit pixels at the network's input size; nothing else of the data set stays in memory.

            Architectures: --arch takes a preset name (\(NetworkSpec.presets.map(\.name).joined(separator: ", "))) or \
            a spec such as "input 32x32x3, conv 16 3x3, bn, relu, maxpool 2, conv 32 3x3, bn, relu, gap, dense classes".
            """)

    @Argument(help: "Folder with one subfolder of images per class.")
    var dataset: String

    @Option(name: .shortAndLong, help: "Where to write the trained model.")
    var out: String = "model.smnet"

    @OptionGroup var recipe: TrainingRecipe

    @Option(help: "Stop after this many epochs without a better validation accuracy (0: never).")
    var patience: Int = 12

    @Option(help: "Fraction of the groups held out for validation (0 trains on everything and keeps the last epoch).")
    var validationFraction: Double = 0.2

    @Flag(help: "Continue the run whose checkpoint is OUT.checkpoint (same data and options).")
    var resume = false

    @Option(name: .customLong("init"), help: "Start from this model's weights (fine-tuning). Class folders named as its classes (any case) keep its last layer; other classes get a new one.")
    var initModel: String?

    @Option(help: "Weight precision in the output file: float16 (half the size) or float32.")
    var weights: ModelFile.WeightFormat = .float16

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    mutating func run() throws {
        if let threads { Parallel.threads = threads }
        let started = Date()
        let groupKey = try GroupKey(pattern: recipe.groupPattern)
        let checkpointPath = out + ".checkpoint"
        // Class folders named as a resumed or --init model's classes in any case (`smear crops` writes
        // `parasitized`, NIH has `Parasitized`) take the model's names and order.
        let listed = try LabelledFolder(root: dataset, groupKey: groupKey)

        // Model: resumed, fine-tuned from --init, or new.
        var resumeState: (ModelFile.Checkpoint, [Float])?
        let model: Model
        let folder: LabelledFolder
        if resume {
            let (m, state) = try ModelFile.load(path: checkpointPath)
            guard let state else { throw ValidationError("\(checkpointPath): not a checkpoint") }
            folder = listed.adopting(classNames: m.classNames) ?? listed
            guard m.classNames == folder.classNames else { throw ValidationError("\(checkpointPath): classes \(m.classNames) differ from the data set's \(folder.classNames)") }
            // The moving average goes on only where it was kept: the moments hold it or not.
            let averaged = state.0.holdsWeightAverages(parameters: m.network.parameters.reduce(0) { $0 + $1.value.count })
            guard averaged == (recipe.average > 0) else {
                throw ValidationError("\(checkpointPath): written " + (averaged ? "with a moving average of the weights; resume with the --average it was trained with, not 0"
                                                                                : "with --average 0; resume with --average 0"))
            }
            model = m; resumeState = state
        } else if let initModel {
            let (source, _) = try ModelFile.load(path: initModel)
            folder = listed.adopting(classNames: source.classNames) ?? listed
            model = fineTuneStart(from: source, path: initModel, classNames: folder.classNames)
        } else {
            folder = listed
            model = try recipe.newModel(classNames: folder.classNames)
        }
        let shape = model.network.inputShape
        guard shape.channels == 3 else { throw ValidationError("the network input must have 3 channels (RGB)") }

        // Split by group.
        let validationEntries = folder.entries.filter { GroupKey.isValidation($0.group, fraction: validationFraction, seed: recipe.seed) }
        let trainEntries = folder.entries.filter { !GroupKey.isValidation($0.group, fraction: validationFraction, seed: recipe.seed) }
        let trainGroups = Set(trainEntries.map(\.group)).count, validationGroups = Set(validationEntries.map(\.group)).count
        guard trainEntries.count >= recipe.batchSize else { throw ValidationError("only \(trainEntries.count) training images for batches of \(recipe.batchSize)") }
        stderrLine("data: \(folder.entries.count) images in \(folder.classNames.count) classes, \(trainGroups + validationGroups) groups"
            + (folder.ungrouped > 0 ? " (\(folder.ungrouped) files matched no group pattern and are their own groups)" : ""))
        for (c, name) in folder.classNames.enumerated() {
            let t = trainEntries.filter { $0.label == c }.count, v = validationEntries.filter { $0.label == c }.count
            stderrLine(String(format: "  %@: %d train (%.1f%%), %d validation (%.1f%%)", name, t,
                              100 * Double(t) / Double(max(trainEntries.count, 1)), v, 100 * Double(v) / Double(max(validationEntries.count, 1))))
        }
        stderrLine("split: \(trainEntries.count) train images from \(trainGroups) groups, \(validationEntries.count) validation images from \(validationGroups) groups")
        stderrLine("network: \(model.network.spec)")
        stderrLine(String(format: "  %d parameters, %.2f MFLOP per image", model.network.parameterCount, Double(model.network.spec.flopsPerSample) / 1e6))

        let loadStart = Date()
        let trainSet = try ImageSet(entries: trainEntries, preprocessing: model.preprocessing, width: shape.width, height: shape.height)
        let validationSet = validationEntries.isEmpty ? nil
            : try ImageSet(entries: validationEntries, preprocessing: model.preprocessing, width: shape.width, height: shape.height)
        stderrLine(String(format: "decoded in %.1f s", Date().timeIntervalSince(loadStart)))

        let options = recipe.options(patience: validationSet == nil ? 0 : patience)
        let trainer = Trainer(model: model, train: trainSet, validation: validationSet, options: options, resume: resumeState)
        var best: [[Float]]?
        if resumeState != nil, trainer.bestEpoch > 0, let (bestModel, _) = try? ModelFile.load(path: out) {
            best = bestModel.network.parameters.map(\.value.array) + bestModel.network.state.map(\.array)
            stderrLine("resuming after epoch \(trainer.epochsDone) (best so far: epoch \(trainer.bestEpoch))")
        }
        let bar = ProgressLine()
        let command = "smear train " + CommandLine.arguments.dropFirst(2).joined(separator: " ")
        var bestRecord: TrainingRecord?
        while !trainer.finished {
            let summary = trainer.runEpoch { p in
                bar.update(String(format: "epoch %d/%d %@ %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %@", p.epoch, recipe.epochs,
                                  ProgressLine.bar(Double(p.batch) / Double(p.batches)), p.batch, p.batches, p.loss,
                                  100 * p.accuracy, p.imagesPerSecond, ProgressLine.duration(p.secondsLeft)))
            }
            var line = String(format: "epoch %d/%d loss %.4f acc %.2f%% lr %.2e %.0f img/s %.1f s (%.2f ms CPU/img)", summary.epoch, recipe.epochs,
                              summary.loss, 100 * summary.accuracy, summary.learningRate, summary.imagesPerSecond, summary.seconds,
                              1e3 * summary.cpuSeconds / Double(trainer.stepsPerEpoch * recipe.batchSize))
            if let v = summary.validation {
                line += String(format: " | val loss %.4f acc %.2f%% AUC %@", v.loss, 100 * v.accuracy, v.auc.map { String(format: "%.4f", $0) } ?? "n/a")
            }
            bar.finish(line + (summary.improved ? " *" : ""))
            // A diverged run has non-finite weights: saving them would give a model no smear can load.
            guard summary.loss.isFinite, summary.validation.map({ $0.loss.isFinite }) ?? true else {
                throw PipelineError("training diverged in epoch \(summary.epoch) (loss \(summary.loss)); the last good model, if any, is in \(out); try a lower --learning-rate")
            }
            if summary.improved {
                best = trainer.withEvaluationWeights { model.network.parameters.map(\.value.array) } + model.network.state.map(\.array)
                bestRecord = record(summary: summary, trainer: trainer, trainGroups: trainGroups, validationGroups: validationGroups,
                                    command: command, seconds: Date().timeIntervalSince(started))
                try write(model, weights: best!, record: bestRecord!)
            }
            model.training = bestRecord
            try ModelFile.save(ModelFile.encode(model, format: .float32, checkpoint: trainer.checkpoint()), to: checkpointPath)
        }
        if let best, let record = bestRecord ?? (try? ModelFile.load(path: out))?.0.training {
            var final = record
            final.epochs = trainer.epochsDone
            final.seconds = Date().timeIntervalSince(started)
            try write(model, weights: best, record: final)
            stderrLine(String(format: "kept epoch %d of %d: validation accuracy %.2f%%, AUC %@ → %@ (%d bytes); %.0f s, peak memory %.0f MB",
                              final.bestEpoch, final.epochs, 100 * final.validationAccuracy,
                              final.validationAUC.map { String(format: "%.4f", $0) } ?? "n/a", out,
                              (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0,
                              final.seconds, Double(peakResidentBytes()) / 1e6))
        }
    }

    /// The `--init` model's weights under the data set's classes; the last layer is kept only when the
    /// classes are the model's own (same names, same order), else it starts afresh.
    private func fineTuneStart(from source: Model, path: String, classNames: [String]) -> Model {
        let network = Network(spec: source.network.spec.withClasses(classNames.count), seed: recipe.seed)
        let keepHead = source.classNames == classNames
        for (target, from) in zip(network.layers, source.network.layers) where keepHead || !(target === network.layers.last!) {
            for (a, b) in zip(target.parameters, from.parameters) where a.value.count == b.value.count { a.value.set(b.value.array) }
            for (a, b) in zip(target.state, from.state) where a.count == b.count { a.set(b.array) }
        }
        stderrLine("initialised from \(path)" + (keepHead ? "" : " (new last layer for \(classNames.count) classes)"))
        return Model(network: network, classNames: classNames, preprocessing: source.preprocessing)
    }

    private func record(summary: EpochSummary, trainer: Trainer, trainGroups: Int, validationGroups: Int,
                        command: String, seconds: Double) -> TrainingRecord {
        let s = trainer.optimizer.settings
        return TrainingRecord(
            dataset: (dataset as NSString).lastPathComponent, groupPattern: recipe.groupPattern, validationFraction: validationFraction,
            seed: recipe.seed, trainImages: trainer.train.count, validationImages: trainer.validation?.count ?? 0,
            trainGroups: trainGroups, validationGroups: validationGroups,
            optimizer: "\(s.kind.rawValue) lr \(s.learningRate) wd \(s.weightDecay) momentum \(s.momentum), warm-up \(recipe.warmup), cosine, label smoothing \(recipe.labelSmoothing), weight average \(recipe.average)",
            batchSize: recipe.batchSize, epochs: summary.epoch, bestEpoch: summary.epoch,
            validationAccuracy: summary.validation?.accuracy ?? summary.accuracy, validationAUC: summary.validation?.auc,
            validationLoss: summary.validation?.loss ?? summary.loss, initialisedFrom: initModel, command: command, seconds: seconds)
    }

    /// Writes `model` with `weights` (tensor order) atomically to `out`, leaving the live weights untouched.
    private func write(_ model: Model, weights: [[Float]], record: TrainingRecord) throws {
        let tensors = model.network.parameters.map(\.value) + model.network.state
        let live = tensors.map(\.array)
        for (t, w) in zip(tensors, weights) { t.set(w) }
        model.training = record
        let bytes = ModelFile.encode(model, format: self.weights)
        for (t, w) in zip(tensors, live) { t.set(w) }
        try ModelFile.save(bytes, to: out)
    }
}

/// One status line on stderr, redrawn in place on a terminal; only final lines otherwise.
final class ProgressLine {
    let isTerminal = isatty(2) != 0
    private var last = Date.distantPast

    func update(_ text: String) {
        guard isTerminal, Date().timeIntervalSince(last) > 0.1 else { return }
        last = Date()
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func finish(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    static func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((fraction * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

func stderrLine(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Peak resident set size of this process (VmHWM from /proc/self/status), in bytes; 0 if unknown.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb * 1024
}

extension Preprocessing.Fit: ExpressibleByArgument {}
extension OptimizerSettings.Kind: ExpressibleByArgument {}
extension ModelFile.WeightFormat: ExpressibleByArgument {}
