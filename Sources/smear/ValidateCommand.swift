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
        let overlayNames = overlayFileNames(for: paths)
        let progress = Progress(total: paths.count, enabled: true)
        let results = parallelMap(count: paths.count, threads: threads) { i -> Result<FieldValidation, any Error> in
            defer { progress.step(paths[i]) }
            do {
                let (field, image) = try analyzer.analyze(path: paths[i])
                if let problem = field.quality.problem { throw PipelineError("\(field.name): failed quality control: \(problem)") }
                let truth = annotations[field.name] ?? []
                let validation = FieldValidation(image: field.name, segmentation: field.segmentation, annotations: truth,
                                                 calls: field.calls)
                if let folder {
                    let overlay = Overlay.renderValidation(image, name: field.name, segmentation: field.segmentation,
                                                           annotations: truth, validation: validation)
                    try folder.write(Data(encodePNG(overlay, field: field)), to: overlayNames[i])
                }
                return .success(validation)
            } catch {
                return .failure(error)
            }
        }
        progress.finish()
        try throwOutputError(results)
        var fields: [FieldValidation] = []
        var failures: [AnalysisReport.Failure] = []
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let v): fields.append(v)
            case .failure(let e):
                failures.append(AnalysisReport.Failure(file: paths[i], error: "\(e)"))
                printError("\(e)")
            }
        }
        let report = ValidationReport(version: smearVersion, summary: ValidationSummary(fields: fields), failures: failures,
                                      classifier: classifier == nil ? nil : (classification.model ?? "bundled"), threshold: classifier == nil ? nil : decision)
        let json = try report.json()
        if let folder {
            try folder.write(json, to: "validation.json")
            try folder.write(Data(report.csv().utf8), to: "validation.csv")
            try folder.commit()
        }
        if self.json {
            FileHandle.standardOutput.write(json)
        } else {
            print(report.text(perImage: !summary), terminator: "")
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
