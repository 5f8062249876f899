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
            per source (NIH, IML, Chula, BCCD, by the shared data's group names), the calibration, what other \
            decision thresholds would call (per source: cells called positive against truly positive, the \
            count bias of that source's parasitemia), the same models' figures with test-time augmentation \
            (probabilities averaged over 2, 4 and 8 flips and rotations; per source: sensitivity / specificity) \
            and the worst groups. Writes \
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
        try CrossValidation.checkEnoughGroups(sizes.count, folds: folds, dataset: dataset)
        let foldOf = CrossValidation.assign(groupSizes: sizes, folds: folds, seed: recipe.seed)
        let output = try OutputFolder(path: out)
        let probe = try recipe.newModel(classNames: folder.classNames)
        guard probe.network.inputShape.channels == 3 else { throw ValidationError("the network input must have 3 channels (RGB)") }
        stderrLine("data: \(folder.entries.count) images in \(folder.classNames.count) classes, \(sizes.count) groups, \(folds) folds")
        stderrLine("network: \(probe.network.spec)")
        let bar = ProgressLine()
        let outcome = try CrossValidation.train(
            entries: folder.entries, foldOf: foldOf, folds: folds, options: recipe.options(patience: 0), testTimeSymmetries: [2, 4, 8],
            makeModel: { try recipe.newModel(classNames: folder.classNames) },
            progress: { p in
                bar.update(String(format: "fold %d/%d epoch %d/%d %@ loss %.4f acc %.2f%% ETA %@", p.fold + 1, folds, p.epoch.epoch, recipe.epochs,
                                  ProgressLine.bar(Double(p.epoch.batch) / Double(p.epoch.batches)), p.epoch.loss, 100 * p.epoch.accuracy,
                                  ProgressLine.duration(p.secondsLeft)))
            },
            foldDone: { k, model, held in
                let f = CrossValidation.summarize(held, classNames: folder.classNames, positive: model.positiveClassIndex).folds[0]
                bar.finish(String(format: "fold %d/%d: %d images of %d groups held out, accuracy %.2f%%, AUC %@", k + 1, folds,
                                  f.images, f.groups, 100 * f.accuracy, f.auc.map { String(format: "%.4f", $0) } ?? "n/a"))
                if keepModels { try output.write(Data(ModelFile.encode(model, format: .float16)), to: "fold-\(k + 1).smnet") }
            })
        let predictions = outcome.predictions, seconds = outcome.seconds, model = probe
        var summary = CrossValidation.summarize(predictions, classNames: folder.classNames, positive: model.positiveClassIndex, seconds: seconds)
        summary.testTimeSymmetries = outcome.symmetric.keys.sorted().map { n in
            CrossValidation.SymmetryFigures(symmetries: n, summary: CrossValidation.summarize(outcome.symmetric[n]!, classNames: folder.classNames,
                                                                                               positive: model.positiveClassIndex))
        }
        try output.write(try smearJSON(summary), to: "cv.json")
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
        for t in s.testTimeSymmetries ?? [] {
            var line = String(format: "test-time average of %d symmetries: accuracy %@, AUC %@, ECE %@", t.symmetries,
                              t.accuracy.map { String(format: "%.2f%% ± %.2f%%", 100 * $0.mean, 100 * $0.sd) } ?? "n/a",
                              t.auc.map { String(format: "%.4f ± %.4f", $0.mean, $0.sd) } ?? "n/a", t.ece.map { String(format: "%.4f", $0) } ?? "n/a")
            for part in t.sources where part.sensitivity != nil || part.specificity != nil {
                line += "; \(part.name) " + pct(part.sensitivity).trimmingCharacters(in: .whitespaces) + " / "
                    + pct(part.specificity).trimmingCharacters(in: .whitespaces)
            }
            lines.append(line)
        }
        if let rows = s.thresholds, let ece = s.ece {
            lines.append(String(format: "calibration: expected calibration error %.4f (ten bins)", ece))
            lines.append("threshold  sensitivity  specificity  called / true positives per source")
            for row in rows where [0.3, 0.5, 0.7, 0.9, 0.95, 0.99].contains(where: { abs($0 - row.threshold) < 1e-9 }) {
                let sources = row.sources.map { "\($0.name) \($0.calledPositive)/\($0.positives)" }.joined(separator: ", ")
                lines.append(String(format: "     %.2f      %@      %@  %@", row.threshold, pct(row.sensitivity), pct(row.specificity), sources))
            }
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
