import ArgumentParser
import Classifier
import Foundation
import NeuralNetwork
import Pipeline
import Reports

struct CV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "Score a training recipe by grouped K-fold cross-validation.",
        discussion: """
            DATASET is laid out as for `smear train` (one subfolder per class). Its groups (patients, field \
            groups: --group-pattern) are dealt into --folds folds of about equal image counts, never splitting \
            a group. For each fold a model is trained with the recipe (the same options as `train`, every \
            epoch, no early stop: the held-out fold chooses nothing) on all the other folds and scored on its \
            own. Each image thus gets one out-of-fold prediction from a model that never saw its group.

            Prints each figure per fold and as mean ± sd (range) over folds, the pooled out-of-fold figures, \
            per source (NIH, IML, Chula, BCCD, by the shared data's group names) and the worst groups. Writes \
            into --out: cv.json (all of it), predictions.csv (every out-of-fold prediction) and, with \
            --keep-models, fold-K.smnet.
            Example: smear cv ../shared/data/nih-cells --folds 5 --out results/cv-nih
            """)

    @Argument(help: "Folder with one subfolder of images per class.")
    var dataset: String

    @Option(help: "Number of folds.")
    var folds: Int = 5

    @Option(help: "Output folder.")
    var out: String

    @OptionGroup var recipe: TrainingRecipe

    @Option(help: "How many of the worst groups to print.")
    var worst: Int = 10

    @Flag(help: "Also write each fold's model (fold-K.smnet).")
    var keepModels = false

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if folds < 2 { throw ValidationError("--folds must be at least 2") }
        if recipe.epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if recipe.batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if worst < 0 { throw ValidationError("--worst must not be negative") }
    }

    func run() throws {
        if let threads { Parallel.threads = threads }
        let folder = try LabelledFolder(root: dataset, groupKey: try GroupKey(pattern: recipe.groupPattern))
        let sizes = Dictionary(grouping: folder.entries, by: \.group).mapValues(\.count)
        guard sizes.count >= folds else {
            throw ValidationError("\(dataset): \(sizes.count) groups, too few for \(folds) folds (check --group-pattern)")
        }
        let foldOf = CrossValidation.assign(groupSizes: sizes, folds: folds, seed: recipe.seed)
        let output = try OutputFolder(path: out)
        var model = try recipe.newModel(classNames: folder.classNames)
        let shape = model.network.inputShape
        guard shape.channels == 3 else { throw ValidationError("the network input must have 3 channels (RGB)") }
        stderrLine("data: \(folder.entries.count) images in \(folder.classNames.count) classes, \(sizes.count) groups, \(folds) folds")
        stderrLine("network: \(model.network.spec)")

        var predictions: [CrossValidation.Prediction] = []
        var seconds: [Int: Double] = [:]
        let bar = ProgressLine()
        for k in 0..<folds {
            let started = Date()
            let test = folder.entries.filter { foldOf[$0.group] == k }, train = folder.entries.filter { foldOf[$0.group] != k }
            guard train.count >= recipe.batchSize else {
                throw ValidationError("fold \(k + 1): only \(train.count) training images for batches of \(recipe.batchSize)")
            }
            model = try recipe.newModel(classNames: folder.classNames)
            let trainSet = try ImageSet(entries: train, preprocessing: model.preprocessing, width: shape.width, height: shape.height)
            let testSet = try ImageSet(entries: test, preprocessing: model.preprocessing, width: shape.width, height: shape.height)
            let trainer = Trainer(model: model, train: trainSet, validation: nil, options: recipe.options(patience: 0), resume: nil)
            while !trainer.finished {
                let summary = trainer.runEpoch { p in
                    bar.update(String(format: "fold %d/%d epoch %d/%d %@ loss %.4f acc %.2f%% ETA %@", k + 1, folds, p.epoch, recipe.epochs,
                                      ProgressLine.bar(Double(p.batch) / Double(p.batches)), p.loss, 100 * p.accuracy,
                                      ProgressLine.duration(p.secondsLeft + Double(recipe.epochs - p.epoch) * Date().timeIntervalSince(started) / Double(max(p.epoch, 1)))))
                }
                guard summary.loss.isFinite else { throw PipelineError("fold \(k + 1): training diverged in epoch \(summary.epoch); try a lower --learning-rate") }
            }
            let probabilities = trainer.withEvaluationWeights { trainer.predict(testSet) }
            for (entry, p) in zip(test, probabilities) {
                predictions.append(.init(path: entry.path, group: entry.group, label: entry.label, probabilities: p, fold: k))
            }
            seconds[k] = Date().timeIntervalSince(started)
            let figures = CrossValidation.summarize(predictions.filter { $0.fold == k }, classNames: folder.classNames,
                                                    positive: model.positiveClassIndex).folds[0]
            bar.finish(String(format: "fold %d/%d: %d images of %d groups held out, accuracy %.2f%%, AUC %@ (%.0f s)", k + 1, folds,
                              figures.images, figures.groups, 100 * figures.accuracy, figures.auc.map { String(format: "%.4f", $0) } ?? "n/a",
                              seconds[k]!))
            if keepModels {
                try output.write(Data(trainer.withEvaluationWeights { ModelFile.encode(model, format: .float16) }), to: "fold-\(k + 1).smnet")
            }
        }
        let summary = CrossValidation.summarize(predictions, classNames: folder.classNames, positive: model.positiveClassIndex, seconds: seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try output.write(try encoder.encode(summary), to: "cv.json")
        let rows = CrossValidation.rows(predictions, classNames: folder.classNames)
        try output.write(Data(rows.map { CSVTable.line($0) + "\n" }.joined().utf8), to: "predictions.csv")
        try output.commit()
        print(table(summary))
    }

    /// The printed summary: per-fold figures with their spread, pooled, per source, worst groups.
    func table(_ s: CrossValidation.Summary) -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%6.2f%%", 100 * $0) } ?? "    n/a" }
        func spread(_ name: String, _ v: CrossValidation.Spread?, percent: Bool = true) -> String {
            guard let v else { return "\(name): n/a" }
            let f = { (x: Double) in percent ? String(format: "%.2f%%", 100 * x) : String(format: "%.4f", x) }
            return "\(name): \(f(v.mean)) ± \(f(v.sd)) (\(f(v.min))–\(f(v.max)), \(v.n) folds)"
        }
        var lines = ["fold  groups  images  accuracy      AUC  sensitivity  specificity"]
        for f in s.folds {
            lines.append(String(format: "%4d  %6d  %6d   %@  %@      %@      %@", f.fold + 1, f.groups, f.images, pct(f.accuracy),
                                f.auc.map { String(format: "%.4f", $0) } ?? "   n/a", pct(f.sensitivity), pct(f.specificity)))
        }
        lines += [spread("accuracy", s.accuracy), spread("AUC", s.auc, percent: false), spread("sensitivity", s.sensitivity),
                  spread("specificity", s.specificity), spread("F1", s.f1, percent: false)]
        lines.append(String(format: "pooled out-of-fold: %d images, accuracy %.2f%%, AUC %@", s.pooled.images, 100 * s.pooled.accuracy,
                            s.pooled.auc.map { String(format: "%.4f", $0) } ?? "n/a"))
        for part in s.sources {
            var line = String(format: "  %@: %d images, accuracy %.2f%% (%d errors)", part.name, part.images, 100 * part.accuracy, part.errors)
            if let a = part.accuracyOverFolds, a.n > 1 { line += String(format: ", over folds %.2f%% ± %.2f%%", 100 * a.mean, 100 * a.sd) }
            line += ", sensitivity " + pct(part.sensitivity).trimmingCharacters(in: .whitespaces)
                + ", specificity " + pct(part.specificity).trimmingCharacters(in: .whitespaces)
            lines.append(line)
        }
        if worst > 0 {
            lines.append("worst groups:")
            for g in s.groups.prefix(worst) {
                lines.append(String(format: "  %@: accuracy %.2f%% (%d of %d wrong; %d positive, %d called positive)", g.name, 100 * g.accuracy,
                                    g.errors, g.images, g.positives, g.calledPositive))
            }
        }
        lines.append("results in \(out)")
        return lines.joined(separator: "\n")
    }
}
