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
        Runs the same analysis as `smear analyze` on every image in IMAGES (a folder, a field or a \
        slide) that the annotation file names, and compares the counted red cells with the annotated \
        ones. The annotation file is CSV with the header image,x,y,width,height,class,source_label: a \
        box (x, y = top-left corner) or, with width and height empty, a point at the cell centre; class \
        is uninfected, parasitized, leukocyte, platelet or unknown.

        Annotations touching the image border (points: closer than one cell radius) and detections \
        marked border are ignored. Red cells are matched one-to-one: a box to the detection with the \
        highest box IoU (at least 0.3), a point to the nearest detection whose mask contains it. \
        Prints recall, precision, count ratio (detected / annotated) per image and overall, and the \
        leukocyte exclusion rate where leukocytes are annotated. With --out, writes validation.json, \
        validation.csv and overlays/NAME.png (annotations drawn: matched white, missed red).

        A slide (a tiled or pyramidal TIFF, or a format OpenSlide reads) is analysed in tiles as \
        `smear analyze` does, and its annotations are in slide pixels, under the slide's file name. \
        The same rules apply: the possible pairs are found in each tile on its masks, among the cells \
        whose centroid lies in its core, and matched one-to-one over the whole slide. An annotation \
        counts when the tile holding its centre is counted. For a slide made of fields by \
        `smear-bench make-slide`, give its fields.csv as a second --truth: annotations touching a \
        field's edge are then ignored, as in that field alone, and the figures are given per field \
        (SLIDE#FIELD), to compare with validating the fields themselves. One line per slide says how \
        many tiles were counted and which annotations were left out; with --out, \
        slides/NAME/matches.csv lists every annotation and counted cell with what became of it.

        Example (a mosaic that smear-bench make-slide built from the annotated fields in FIELDS, with \
        the cells.csv and fields.csv it wrote beside the slide; then the same fields one by one):
          smear validate slide.tiff --truth cells.csv --truth fields.csv
          smear validate FIELDS --truth ANNOTATIONS.csv
        """)

    @Argument(help: "A folder of field images, a field, or a slide.")
    var images: String

    @Option(help: "Annotation file (cells.csv format); for a slide made of fields, also its fields.csv (image,field,x,y,width,height).")
    var truth: [String]

    @Option(help: "Output folder for validation.json, validation.csv and overlays (slides: slides/NAME/matches.csv).")
    var out: String?

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image, or once for a slide).")
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
        var annotations: [String: [Annotation]] = [:]
        var mosaics: [String: [MosaicField]] = [:]
        for file in truth {
            if let placement = try MosaicField.load(csv: file) {
                mosaics.merge(placement, uniquingKeysWith: +)
            } else {
                annotations.merge(try Annotation.load(csv: file), uniquingKeysWith: +)
            }
        }
        let paths = try expandInputs([images]).filter { annotations[($0 as NSString).lastPathComponent] != nil }
        guard !paths.isEmpty else {
            throw PipelineError("\(images): no image in this folder is named in \(truth.joined(separator: " or "))")
        }
        let slides = paths.filter(AnalysisRun.Sample.isSlideFile)
        var samples: [AnalysisRun.Sample] = slides.map { .init(name: (($0 as NSString).lastPathComponent as NSString).deletingPathExtension, slide: $0, target: nil) }
        let fields = paths.filter { !slides.contains($0) }
        if !fields.isEmpty { samples.insert(.init(name: "", paths: fields, target: nil), at: 0) }

        let folder = try out.map { try output.open($0) }
        let loaded = try classification.load()
        let classifier = loaded?.classifier
        let decision = loaded?.threshold ?? 0.5
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)),
                                     classifier: classifier, threshold: decision)
        let sink = ValidationFolder(annotations: annotations, mosaics: mosaics, folder: folder, paths: paths,
                                    classifier: classifier == nil ? nil : (classification.model ?? "bundled"),
                                    threshold: classifier == nil ? nil : decision, operatingPoint: classifier?.operatingPoint(at: decision),
                                    version: smearVersion)
        let progress = Progress(enabled: true)
        let result = try AnalysisRun(samples: samples, analyzer: analyzer, threads: threads).run([progress, sink])
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
