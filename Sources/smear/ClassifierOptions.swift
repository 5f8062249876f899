import ArgumentParser
import Classifier
import Foundation
import Pipeline

/// The classifier options that `analyze` and `validate` share. The decision threshold and the
/// test-time symmetries default to the model's operating point (MODEL.md, "Operating point"), else to
/// 0.5 and 1 (`CellClassifier.threshold`, `CellClassifier.init`).
struct ClassifierOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Classifier model (.smnet); default: the bundled model.", valueName: "file"))
    var model: String?

    @Option(help: Self.thresholdHelp)
    var threshold: Double?

    @Option(help: Self.symmetriesHelp)
    var symmetries: Int?

    static let thresholdHelp: ArgumentHelp = "Probability at or above which a cell is called parasitized (default: the model's operating point, 0.55 for the bundled model; MODEL.md, 'Operating point')."
    static let symmetriesHelp: ArgumentHelp = "Average the probability of each doubtful cell (neither class at 0.95 or more) over 1, 2, 4 or 8 flips and rotations (default: the model's operating point, 4 for the bundled model)."

    @Flag(help: "Only find and count cells; do not classify them.")
    var noClassify = false

    func validate() throws {
        try Self.check(threshold: threshold)
        try Self.check(symmetries: symmetries)
        if noClassify && (model != nil || threshold != nil || symmetries != nil) {
            throw ValidationError("--no-classify cannot be combined with --model, --threshold or --symmetries")
        }
    }

    static func check(threshold: Double?) throws {
        if let t = threshold, !(t > 0 && t <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
    }

    static func check(symmetries: Int?) throws {
        if let n = symmetries, !OperatingPoint.symmetryCounts.contains(n) { throw ValidationError("--symmetries must be 1, 2, 4 or 8") }
    }

    /// The classifier to run (nil with `--no-classify`) and the decision threshold in effect; fails when
    /// the model cannot be loaded, has no 'parasitized' class, or cannot take the symmetries.
    func load() throws -> (classifier: CellClassifier, threshold: Double)? {
        guard !noClassify else { return nil }
        let classifier = try Self.load(model, symmetries: symmetries)
        return (classifier, classifier.threshold(threshold))
    }

    /// The model at `path` (nil: the bundled one), run with `symmetries` (nil: the model's own); fails
    /// when it cannot be loaded, has no 'parasitized' class (unless `requirePositive` is false), or has
    /// a non-square input and symmetries.
    static func load(_ path: String?, symmetries: Int? = nil, requirePositive: Bool = true) throws -> CellClassifier {
        let classifier = try path.map { try CellClassifier(contentsOf: $0) } ?? CellClassifier.bundled()
        guard classifier.positiveClassIndex != nil || !requirePositive else {
            throw PipelineError("\(path ?? "bundled model"): the model has no 'parasitized' class")
        }
        guard let n = symmetries else { return classifier }
        let input = classifier.model.network.inputShape
        if let problem = OperatingPoint.symmetryProblem(n, inputWidth: input.width, inputHeight: input.height) {
            throw PipelineError("\(path ?? "bundled model"): --symmetries: \(problem)")
        }
        return classifier.with(symmetries: n)
    }

    /// The name of the model at `path` as reports give it.
    static func modelName(_ path: String?) -> String {
        path ?? "bundled (\(CellClassifier.bundledPath.map { ($0 as NSString).lastPathComponent } ?? "cells.smnet"))"
    }
}
