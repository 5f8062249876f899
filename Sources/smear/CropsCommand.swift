import ArgumentParser
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
        annotation's (parasitized or uninfected; cells annotated unknown are skipped). The result is an \
        image folder for `smear train`, e.g. `smear train DATASET --init MODEL --group-pattern …` to adapt \
        a model to another lab's stain. Files appear only when the run is complete.
        """)

    @Argument(help: "Folder of field images.")
    var imagesDir: String

    @Option(help: "Annotation file (cells.csv format).")
    var truth: String

    @Option(help: "Output dataset folder (one sub-folder per class).")
    var out: String

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image).")
    var cellDiameter: Double?

    @Option(help: "Threads to use.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var output: OutputOptions

    func run() throws {
        let annotations = try Annotation.load(csv: truth)
        let paths = try expandInputs([imagesDir]).filter { annotations[($0 as NSString).lastPathComponent] != nil }
        guard !paths.isEmpty else { throw PipelineError("\(imagesDir): no image in this folder is named in \(truth)") }
        let folder = try output.open(out)
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)))
        let overlayNames = overlayFileNames(for: paths)
        let progress = Progress(total: paths.count, enabled: true)
        let results = parallelMap(count: paths.count, threads: threads) { i -> Result<[String: Int], any Error> in
            defer { progress.step(paths[i]) }
            do {
                let (field, image) = try analyzer.analyze(path: paths[i])
                if let problem = field.quality.problem { throw PipelineError("\(field.name): failed quality control: \(problem)") }
                let truth = annotations[field.name] ?? []
                let validation = FieldValidation(image: field.name, segmentation: field.segmentation, annotations: truth)
                var written: [String: Int] = [:]
                for pair in validation.pairs {
                    let kind = truth[pair.annotation].kind
                    guard kind == .parasitized || kind == .uninfected,
                          let object = field.segmentation.objects.first(where: { $0.id == pair.detection }) else { continue }
                    try folder.write(Data(encodePNG(object.crop(from: image), field: field)),
                                     to: "\(kind.rawValue)/" + cellFileName(overlay: overlayNames[i], id: object.id))
                    written[kind.rawValue, default: 0] += 1
                }
                return .success(written)
            } catch {
                return .failure(error)
            }
        }
        progress.finish()
        try throwOutputError(results)
        var totals: [String: Int] = [:]
        var failed = 0
        for r in results {
            switch r {
            case .success(let counts): totals.merge(counts, uniquingKeysWith: +)
            case .failure(let e): printError("\(e)"); failed += 1
            }
        }
        try folder.commit()
        print("\(totals.values.reduce(0, +)) crops from \(paths.count - failed) fields: "
              + totals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "; in \(out)")
        if failed > 0 { throw ExitCode(1) }
    }
}
