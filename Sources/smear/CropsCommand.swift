import ArgumentParser
import Classifier
import Foundation
import ImageCodecs
import Pipeline
import Reports
import Segmentation

struct Crops: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut labelled training crops from annotated fields.",
        discussion: """
        Segments every image in IMAGES_DIR that the annotation file names, exactly as `smear analyze` \
        does, matches the counted cells with the annotations (the rules of `smear validate`), and writes \
        each matched cell's masked crop into DATASET/<class>/<field>_cell_<id>.png, where class is the \
        annotation's (parasitized or uninfected; cells annotated unknown are skipped). Each crop keeps the \
        ring of the field around the cell that --crop-context asks, by default the bundled model's, so \
        the crops suit it. The result is an image folder for `smear train`, e.g. `smear train DATASET \
        --init MODEL --group-pattern …` to adapt a model to another lab's stain (give --crop-context the \
        model's context, `smear train --context`, when it is not the bundled one). Files appear only when \
        the run is complete.
        """)

    @Argument(help: "Folder of field images.")
    var imagesDir: String

    @Option(help: "Annotation file (cells.csv format).")
    var truth: String

    @Option(help: "Output dataset folder (one sub-folder per class).")
    var out: String

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image).")
    var cellDiameter: Double?

    @Option(help: ArgumentHelp("Ring of the field each crop keeps around the cell, as a fraction of its longer side, 0-0.5 (default: the bundled model's).", valueName: "fraction"))
    var cropContext: Float?

    @Option(help: "Threads to use.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let c = cropContext, !Preprocessing.contexts.contains(c) { throw ValidationError("--crop-context must be between 0 and 0.5") }
    }

    func run() throws {
        let context = try cropContext ?? CellClassifier.bundled().model.preprocessing.context
        let annotations = try Annotation.load(csv: truth)
        let paths = try expandInputs([imagesDir]).filter { annotations[($0 as NSString).lastPathComponent] != nil }
        guard !paths.isEmpty else { throw PipelineError("\(imagesDir): no image in this folder is named in \(truth)") }
        let sink = TrainingCrops(annotations: annotations, folder: try output.open(out), paths: paths, context: context)
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)))
        let progress = Progress(enabled: true)
        let result = try AnalysisRun(samples: [.init(name: "", paths: paths, target: nil)], analyzer: analyzer, threads: threads)
            .run([progress, sink])
        progress.finish()
        for f in result.failures { printError(f.message) }
        let totals = sink.counts
        print("\(totals.values.reduce(0, +)) crops from \(result.fields.count) fields: "
              + totals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "; in \(out)")
        if !result.failures.isEmpty { throw ExitCode(1) }
    }
}
