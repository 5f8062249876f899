import ArgumentParser
import Classifier
import Foundation
import ImageCodecs
import Pipeline
import Reports
import Segmentation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare cell counts, classes and parasitemia with expert annotations.",
        discussion: """
        Runs the same analysis as `smear analyze` on every image in IMAGES_DIR that the annotation file \
        names, and compares the counted red cells with the annotated ones. The annotation file is CSV \
        with the header image,x,y,width,height,class,source_label: a box (x, y = top-left corner) or, \
        with width and height empty, a point at the cell centre; class is uninfected, parasitized, \
        leukocyte, platelet or unknown.

        Annotations touching the image border (points: closer than one cell radius) and detections \
        marked border are ignored. Red cells are matched one-to-one: a box to the detection with the \
        highest box IoU (at least 0.3), a point to the nearest detection whose mask contains it. \
        Prints recall, precision, count ratio (detected / annotated) per image and overall, and the \
        leukocyte exclusion rate where leukocytes are annotated. With --out, writes validation.json, \
        validation.csv and overlays/NAME.png (annotations drawn: matched white, missed red).
        """)

    @Argument(help: "Folder of field images.")
    var imagesDir: String

    @Option(help: "Annotation file (cells.csv format).")
    var truth: String

    @Option(help: "Output folder for validation.json, validation.csv and overlays.")
    var out: String?

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image).")
    var cellDiameter: Double?

    @OptionGroup var classification: ClassifierOptions

    @Flag(help: "Print only the overall figures, not one line per image.")
    var summary = false

    @Flag(help: "Print validation.json to standard output instead of the table.")
    var json = false

    @Option(help: "Threads to use.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var output: OutputOptions

    func run() throws {
        let annotations = try Annotation.load(csv: truth)
        let paths = try expandInputs([imagesDir]).filter { annotations[($0 as NSString).lastPathComponent] != nil }
        guard !paths.isEmpty else { throw PipelineError("\(imagesDir): no image in this folder is named in \(truth)") }
        let folder = try out.map { try output.open($0) }
        let classifier = try classification.load()
        let decision = classification.decision
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)),
                                     classifier: classifier, threshold: decision)
        let sink = ValidationFolder(annotations: annotations, folder: folder, paths: paths,
                                    classifier: classifier == nil ? nil : (classification.model ?? "bundled"),
                                    threshold: classifier == nil ? nil : decision, version: smearVersion)
        let progress = Progress(enabled: true)
        let result = try AnalysisRun(samples: [.init(name: "", paths: paths, target: nil)], analyzer: analyzer, threads: threads)
            .run([progress, sink])
        progress.finish()
        for f in result.failures { printError(f.message) }
        guard let report = sink.report else { return }
        if self.json {
            FileHandle.standardOutput.write(try report.json())
        } else {
            print(report.text(perImage: !summary), terminator: "")
        }
        if !result.failures.isEmpty { throw ExitCode(1) }
    }
}
