import ArgumentParser
import Classifier
import Foundation
import Pipeline

/// The classifier options that `analyze` and `validate` share, and the one rule for the decision
/// threshold: 0.5 unless `--threshold` is given (MODEL.md, "Decision threshold": chosen for the
/// bundled model on validation data; for two classes it is the argmax).
struct ClassifierOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Classifier model (.smnet); default: the bundled model.", valueName: "file"))
    var model: String?

    @Option(help: "Probability at or above which a cell is called parasitized (default: 0.5; MODEL.md, 'Decision threshold').")
    var threshold: Double?

    @Flag(help: "Only find and count cells; do not classify them.")
    var noClassify = false

    func validate() throws {
        if let t = threshold, !(t > 0 && t <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
        if noClassify && (model != nil || threshold != nil) {
            throw ValidationError("--no-classify cannot be combined with --model or --threshold")
        }
    }

    /// The decision threshold in effect.
    var decision: Double { threshold ?? 0.5 }

    /// The classifier to run (nil with `--no-classify`); fails when the model cannot be loaded or has no
    /// 'parasitized' class.
    func load() throws -> CellClassifier? {
        noClassify ? nil : try Self.load(model)
    }

    /// The model at `path` (nil: the bundled one); fails when it cannot be loaded or has no
    /// 'parasitized' class.
    static func load(_ path: String?) throws -> CellClassifier {
        let classifier = try path.map { try CellClassifier(contentsOf: $0) } ?? CellClassifier.bundled()
        guard classifier.positiveClassIndex != nil else {
            throw PipelineError("\(path ?? "bundled model"): the model has no 'parasitized' class")
        }
        return classifier
    }

    /// The name of the model at `path` as reports give it.
    static func modelName(_ path: String?) -> String {
        path ?? "bundled (\(CellClassifier.bundledPath.map { ($0 as NSString).lastPathComponent } ?? "cells.smnet"))"
    }
}
