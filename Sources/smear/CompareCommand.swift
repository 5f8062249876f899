import ArgumentParser
import Classifier
import Foundation
import NeuralNetwork
import Pipeline
import Reports

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare architectures or training recipes by grouped K-fold cross-validation on the same folds.",
        discussion: """
            Each CANDIDATE is trained and scored as `smear cv` does, on the same folds of DATASET, and the results \
            go into one page, OUT/compare.html (no network needed): accuracy, precision, recall, F1 and ROC AUC \
            with their spread over folds, model size and cells/s; pooled ROC, precision–recall and reliability \
            curves; confusion matrices; the worst groups; and every fold's training curves. OUT also gets \
            compare.json and predictions-NAME.csv (the out-of-fold predictions of each candidate).

            A CANDIDATE is a preset name (\(NetworkSpec.presets.map(\.name).joined(separator: ", "))) or a spec text, trained with the \
            shared options; a model file (.smnet), whose architecture and preprocessing are trained anew on each \
            fold; or NAME=OPTIONS in quotes, e.g. 'noaug=--arch cells --no-augment': the shared options, then \
            these. A preset, spec or file can be named the same way ('small=input 32x32x3, …'); otherwise its \
            text names it. The other options (epochs, learning rate, augmentation, seed, …) are shared by every \
            candidate, and the folds are the same for all (dealt by the shared --seed).

            Example (the three presets on NIH, about 35 minutes on 2 cores):
              smear compare ../shared/data/nih-cells cells seed tiny --folds 5 --epochs 10 --out results/compare-nih
            """)

    @Argument(help: "Folder with one subfolder of images per class.")
    var dataset: String

    @Argument(help: "Presets, spec texts, model files or quoted NAME=OPTIONS lists (see the discussion).")
    var candidates: [String]

    @Option(help: "Number of folds.")
    var folds: Int = 5

    @Option(help: "Output folder.")
    var out: String

    @OptionGroup var recipe: TrainingRecipe

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if candidates.isEmpty { throw ValidationError("give at least one candidate to compare") }
        if folds < 2 { throw ValidationError("--folds must be at least 2") }
        if recipe.epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    }

    /// A candidate: its name and its whole recipe.
    struct Candidate {
        var name: String
        var recipe: TrainingRecipe
        var fromModel: Model?
    }

    func run() throws {
        if let threads { Parallel.threads = threads }
        let resolved = try candidates.map(resolve)
        let names = resolved.map(\.name)
        if let twice = names.first(where: { n in names.filter { $0.lowercased() == n.lowercased() }.count > 1 }) {
            throw ValidationError("two candidates are named '\(twice)'; name them with NAME=…")
        }
        let folder = try LabelledFolder(root: dataset, groupKey: try GroupKey(pattern: recipe.groupPattern))
        let sizes = Dictionary(grouping: folder.entries, by: \.group).mapValues(\.count)
        try CrossValidation.checkEnoughGroups(sizes.count, folds: folds, dataset: dataset)
        // Every candidate's folds are the shared recipe's, whatever seed a candidate trains with.
        let foldOf = CrossValidation.assign(groupSizes: sizes, folds: folds, seed: recipe.seed)
        let models = try resolved.map { try model(of: $0, classNames: folder.classNames) }
        let output = try OutputFolder(path: out)
        stderrLine("data: \(folder.entries.count) images in \(folder.classNames.count) classes, \(sizes.count) groups, \(folds) folds; \(resolved.count) candidates")

        var results: [ModelComparison.Candidate] = []
        let bar = ProgressLine(), started = Date()
        for (i, (candidate, probe)) in zip(resolved, models).enumerated() {
            guard probe.network.inputShape.channels == 3 else { throw ValidationError("\(candidate.name): the network input must have 3 channels (RGB)") }
            stderrLine("\(candidate.name): \(probe.network.spec)")
            let outcome = try CrossValidation.train(
                entries: folder.entries, foldOf: foldOf, folds: folds, options: candidate.recipe.options(patience: 0),
                makeModel: { try model(of: candidate, classNames: folder.classNames) },
                progress: { p in
                    // Later candidates are assumed to take as long as this one.
                    let left = p.secondsLeft + Double(resolved.count - i - 1) * (Date().timeIntervalSince(started) + p.secondsLeft) / Double(i + 1)
                    bar.update(String(format: "%@ fold %d/%d epoch %d/%d %@ loss %.4f ETA %@", candidate.name, p.fold + 1, folds, p.epoch.epoch,
                                      candidate.recipe.epochs, ProgressLine.bar(Double(p.epoch.batch) / Double(p.epoch.batches)), p.epoch.loss,
                                      ProgressLine.duration(left)))
                })
            let result = ModelComparison.Candidate(
                name: candidate.name, spec: probe.network.spec.description, recipe: candidate.recipe.arguments.joined(separator: " "),
                parameters: probe.network.parameterCount, outcome: outcome, classNames: folder.classNames, positive: probe.positiveClassIndex)
            bar.finish(String(format: "%@: accuracy %.2f%% ± %.2f%%, AUC %@ (%.0f min)", candidate.name, 100 * (result.summary.accuracy?.mean ?? 0),
                              100 * (result.summary.accuracy?.sd ?? 0), result.summary.auc.map { String(format: "%.4f ± %.4f", $0.mean, $0.sd) } ?? "n/a",
                              result.trainingSeconds / 60))
            let rows = CrossValidation.rows(outcome.predictions, classNames: folder.classNames)
            try output.write(Data(rows.map { CSVTable.line($0) + "\n" }.joined().utf8), to: "predictions-\(safeFileName(candidate.name)).csv")
            results.append(result)
        }
        let comparison = ModelComparison(dataset: dataset, folds: folds, images: folder.entries.count, groups: sizes.count,
                                         classNames: folder.classNames, positiveClass: models[0].positiveClassIndex.map { folder.classNames[$0] },
                                         candidates: results)
        try output.write(try smearJSON(comparison), to: "compare.json")
        try output.write(Data(ComparisonPage(comparison).html().utf8), to: "compare.html")
        try output.commit()
        print(table(comparison))
    }

    /// The candidate a command-line text names (see the discussion).
    func resolve(_ text: String) throws -> Candidate {
        var name: String?, body = text
        if let eq = text.firstIndex(of: "="), text[..<eq].range(of: #"^[A-Za-z0-9_.-]+$"#, options: .regularExpression) != nil {
            name = String(text[..<eq]); body = String(text[text.index(after: eq)...])
        }
        let trimmed = body.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ValidationError("candidate '\(text)' is empty") }
        if trimmed.hasPrefix("-") {
            let tokens = try Self.tokens(trimmed)
            do {
                return Candidate(name: name ?? trimmed, recipe: try TrainingRecipe.parse(recipe.arguments + tokens), fromModel: nil)
            } catch {
                throw ValidationError("candidate '\(text)': \(TrainingRecipe.message(for: error))")
            }
        }
        if trimmed.hasSuffix(".smnet") || FileManager.default.fileExists(atPath: trimmed) {
            let (model, _) = try ModelFile.load(path: trimmed)
            var r = recipe
            r.arch = model.network.spec.description
            r.fit = model.preprocessing.fit
            r.context = model.preprocessing.context
            return Candidate(name: name ?? URL(fileURLWithPath: trimmed).deletingPathExtension().lastPathComponent, recipe: r, fromModel: model)
        }
        var r = recipe
        r.arch = trimmed
        do { _ = try NetworkSpec.preset(trimmed) ?? NetworkSpec(parsing: trimmed) } catch {
            throw ValidationError("candidate '\(text)' is not a preset (\(NetworkSpec.presets.map(\.name).joined(separator: ", "))), a model file or a valid spec: \(error)")
        }
        return Candidate(name: name ?? trimmed, recipe: r, fromModel: nil)
    }

    /// A new model of `candidate`'s recipe for `classNames`; a model file's architecture keeps its
    /// preprocessing, with the last layer sized for these classes.
    func model(of candidate: Candidate, classNames: [String]) throws -> Model {
        let model = try candidate.recipe.newModel(classNames: classNames)
        if let from = candidate.fromModel { model.preprocessing = from.preprocessing }
        return model
    }

    /// Splits an option list at spaces; single or double quotes keep spaces inside one token.
    static func tokens(_ text: String) throws -> [String] {
        var out: [String] = [], current = "", quote: Character?, inToken = false
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch; inToken = true
            } else if ch == " " {
                if inToken { out.append(current); current = ""; inToken = false }
            } else {
                current.append(ch); inToken = true
            }
        }
        if quote != nil { throw ValidationError("unclosed quote in '\(text)'") }
        if inToken { out.append(current) }
        return out
    }

    /// The printed summary: one line per candidate.
    func table(_ c: ModelComparison) -> String {
        func pct(_ v: CrossValidation.Spread?) -> String { v.map { String(format: "%6.2f ± %.2f", 100 * $0.mean, 100 * $0.sd) } ?? "     n/a" }
        let width = max(9, c.candidates.map(\.name.count).max() ?? 0)
        var lines = ["candidate".padding(toLength: width, withPad: " ", startingAt: 0) + "  accuracy %      recall %     precision %   AUC              ECE     size kB  cells/s"]
        for m in c.candidates {
            lines.append(m.name.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  \(pct(m.summary.accuracy))  \(pct(m.summary.sensitivity))  \(pct(m.summary.precision))  "
                + (m.summary.auc.map { String(format: "%.4f ± %.4f", $0.mean, $0.sd) } ?? "      n/a      ")
                + String(format: "  %.4f  %7.1f  %7.0f", m.summary.ece ?? .nan, Double(m.modelBytes) / 1000, m.imagesPerSecond))
        }
        lines.append("page: \(out)/compare.html")
        return lines.joined(separator: "\n")
    }
}
