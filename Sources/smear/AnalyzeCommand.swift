import ArgumentParser
import Classifier
import Foundation
import ImageCodecs
import Pipeline
import Reports
import Segmentation

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count red blood cells and malaria parasites in smear fields.",
        discussion: """
        Every IMAGE (PNG, JPEG or TIFF; a folder means every image in it, in name order) is segmented: \
        each red blood cell is found and outlined; cells cut by the image border, white blood cells and \
        debris are shown but not counted. Every counted cell is cropped and classified as parasitized \
        or uninfected by the bundled model (or --model).

        Without --sample, every field given is analysed and reported. With --sample NAME the fields are \
        one patient's slide: they are counted in order until --target-cells red cells (WHO: 5,000) are \
        reached, and the report gives the parasitemia with its Wilson 95% interval and parasites/µL. \
        --samples-root DIR analyses every sub-folder of DIR as a sample of that name.

        A whole-slide image (Aperio .svs, Hamamatsu .ndpi, MIRAX .mrxs and other formats OpenSlide \
        reads; a tiled or pyramidal TIFF, BigTIFF or OME-TIFF) is a sample of its own, analysed in \
        tiles read on demand, in bounded memory: every tile fit for counting is counted, or, with \
        --target-cells N, tiles spread over the slide until N cells are.
        Example: smear analyze scan.svs --out results/scan

        Writes, into the output folder:
          report.json        settings, fields, samples, every object, failures
          cells.csv          every object: box, centroid, area, status, class,
                             p_parasitized
          report.html        a page to check the count by eye: summary, fields,
                             every cell called parasitized
          overlays/NAME.png  each field: parasitized cells bold red with their
                             probability, uninfected thin green, objects not
                             counted dotted (blue border, orange leukocyte,
                             grey debris), ids, a header with the counts
          cells/             a picture of each cell called parasitized
          slides/NAME/       each slide: cells.geojson (its cells for QuPath),
                             overlay.tiff (the outlined slide, pyramidal),
                             quality-map.png (which tiles were counted, and
                             why not), viewer/ (tiles of the zoomable view
                             in report.html)

        Files appear only when the run is complete. The exit status is non-zero if any input failed; \
        the others are still analysed and the failures are listed in report.json.
        """)

    @Argument(help: "Field images, folders of them, or whole-slide images.")
    var images: [String] = []

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Treat the fields as one patient's slide with this name and count them to --target-cells.")
    var sample: String?

    @Option(help: ArgumentHelp("Analyse every sub-folder of this folder as a sample named after it.", valueName: "dir"))
    var samplesRoot: String?

    @Option(help: "Red cells to count per sample before stopping (default with --sample or --samples-root: 5000; a slide is counted over its whole counting area unless this is given).")
    var targetCells: Int?

    @Option(help: "Red cells per µL of blood, to convert parasitemia into parasites/µL.")
    var redCellsPerMicrolitre = 5.0e6

    @OptionGroup var classification: ClassifierOptions

    @Flag(help: "Tint each parasitized cell in the overlays with its Grad-CAM heatmap.")
    var heatmaps = false

    @Option(help: ArgumentHelp("Also write a masked crop of every counted cell into this folder, and of every leukocyte into its leukocytes/ sub-folder.", valueName: "dir"))
    var crops: String?

    @Option(help: ArgumentHelp("Ring of the field each --crops crop keeps around the cell, as a fraction of its longer side, 0-0.5 (default: the model's, as the classifier takes the cells; 0 with --no-classify).", valueName: "fraction"))
    var cropContext: Float?

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image).")
    var cellDiameter: Double?

    @Flag(help: "Print report.json to standard output as well.")
    var json = false

    @Flag(help: "Continue an interrupted slide run into the same --out folder from the tiles it had analysed (kept in OUT/.smear-resume until a run completes).")
    var resume = false

    @OptionGroup var output: OutputOptions

    @Option(help: "Threads to use.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if let d = cellDiameter, !(d >= 4 && d <= 2000) { throw ValidationError("--cell-diameter must be between 4 and 2000 pixels") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let t = targetCells, t < 1 { throw ValidationError("--target-cells must be at least 1") }
        if !(redCellsPerMicrolitre > 0) { throw ValidationError("--red-cells-per-microlitre must be positive") }
        if samplesRoot != nil && sample != nil { throw ValidationError("--sample and --samples-root cannot be used together") }
        if samplesRoot == nil && images.isEmpty { throw ValidationError("give at least one image or folder (or --samples-root)") }
        if samplesRoot != nil && !images.isEmpty { throw ValidationError("with --samples-root, give no other images") }
        if classification.noClassify && heatmaps { throw ValidationError("--no-classify cannot be combined with --heatmaps") }
        if let c = cropContext, !Preprocessing.contexts.contains(c) { throw ValidationError("--crop-context must be between 0 and 0.5") }
        if cropContext != nil && crops == nil { throw ValidationError("--crop-context needs --crops") }
    }

    func run() throws {
        // Inputs, grouped into samples (a plain batch is one sample with no name and no target); each
        // slide (a tiled or pyramidal file, or an image over the field size limit) is a sample of its own.
        let fieldTarget = targetCells ?? 5000
        var samples: [AnalysisRun.Sample] = []
        func add(_ paths: [String], name: String, target: Int?) {
            let slides = paths.filter(AnalysisRun.Sample.isSlideFile)
            let fields = paths.filter { !slides.contains($0) }
            if !fields.isEmpty { samples.append(.init(name: name, paths: fields, target: target)) }
            for slide in slides {
                samples.append(.init(name: ((slide as NSString).lastPathComponent as NSString).deletingPathExtension, slide: slide, target: targetCells))
            }
        }
        if let root = samplesRoot {
            for folder in try sampleFolders(root) { add(try expandInputs([folder]), name: (folder as NSString).lastPathComponent, target: fieldTarget) }
        } else {
            add(try expandInputs(images), name: sample ?? "", target: sample == nil ? nil : fieldTarget)
        }
        let loaded = try classification.load()
        let classifier = loaded?.classifier
        let modelName = classifier == nil ? nil : ClassifierOptions.modelName(classification.model)
        let decision = loaded?.threshold ?? 0.5
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)),
                                     classifier: classifier, threshold: decision)
        let folder = try output.open(out)
        let cropFolder = try crops.map { path throws -> OutputFolder in
            guard !sameFolder(path, out) else { throw ValidationError("--crops must name another folder than --out") }
            return try output.open(path)
        }
        let paths = samples.flatMap(\.paths)
        let settings = AnalysisReport.Settings(model: modelName, threshold: classifier == nil ? nil : decision,
                                               cellDiameter: cellDiameter, targetCells: samplesRoot != nil || sample != nil ? fieldTarget : targetCells,
                                               redCellsPerMicrolitre: redCellsPerMicrolitre, symmetries: classifier?.symmetries,
                                               operatingPoint: classifier?.operatingPoint(at: decision))
        let sink = try ReportFolder(folder: folder, crops: cropFolder, cropContext: cropContext ?? classifier?.model.preprocessing.context ?? 0,
                                    paths: paths, settings: settings, version: smearVersion, classified: classifier != nil)
        let progress = Progress(enabled: paths.count > 1 || samples.contains(where: \.isSlide))
        var run = AnalysisRun(samples: samples, analyzer: analyzer, threads: threads, heatmaps: heatmaps,
                              redCellsPerMicrolitre: redCellsPerMicrolitre)
        // Slides keep each tile's analysis until the run completes, for --resume.
        let kept = (out as NSString).appendingPathComponent(".smear-resume")
        if samples.contains(where: \.isSlide) {
            run.checkpoints = (kept, "model \(modelName ?? "none") threshold \(decision) symmetries \(classifier?.symmetries ?? 0) cell diameter \(cellDiameter.map { "\($0)" } ?? "estimated")", resume)
        }
        let result = try run.run([progress, sink])
        if result.failures.isEmpty { try? FileManager.default.removeItem(atPath: kept) }   // else kept for --resume
        progress.finish()
        for f in result.failures { printError(f.message) }
        guard let report = sink.report else { return }
        if self.json { FileHandle.standardOutput.write(try report.json()) }
        FileHandle.standardError.write(Data(summary(report).utf8))
        if !result.failures.isEmpty { throw ExitCode(1) }
    }

    /// Whether two paths name the same folder (once both exist).
    func sameFolder(_ a: String, _ b: String) -> Bool {
        guard let ra = realpath(a, nil), let rb = realpath(b, nil) else { return false }
        defer { free(ra); free(rb) }
        return strcmp(ra, rb) == 0
    }

    /// The sub-folders of `root`, in name order.
    func sampleFolders(_ root: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw PipelineError("\(root): cannot list the folder")
        }
        let folders = names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        guard !folders.isEmpty else { throw PipelineError("\(root): no sample folders in it") }
        return folders.map { (root as NSString).appendingPathComponent($0) }
    }

    /// The lines printed on standard error at the end: the report's figures, as report.json has them.
    func summary(_ report: AnalysisReport) -> String {
        var lines: [String] = []
        for s in report.samples {
            var line = "\(s.name): \(s.cellsCounted) red cells in \(s.fieldsUsed) of \(s.fieldsAvailable) fields"
            if let p = s.parasitemiaPercent, let ci = s.parasitemiaCi95Percent, let perUL = s.parasitesPerMicrolitre {
                line += String(format: ", %d parasitized: parasitemia %.2f%% (95%% CI %.2f–%.2f%%), %.0f parasites/µL",
                               s.parasitized ?? 0, p, ci[0], ci[1], perUL)
            }
            if let a = s.adjustedParasitemiaPercent, let ci = s.adjustedParasitemiaCi95Percent {
                line += String(format: "; adjusted for the classifier's errors %.2f%% (%.2f–%.2f%%)", a, ci[0], ci[1])
            }
            if !s.targetReached { line += "; target of \(s.targetCells ?? 0) cells NOT reached" }
            lines.append(line)
        }
        for s in report.slides {
            var line = "\(s.name): \(s.cellsCounted) red cells in \(s.tilesCounted) of \(s.tilesTotal) tiles"
            if let p = s.parasitemiaPercent, let ci = s.parasitemiaCi95Percent, let perUL = s.parasitesPerMicrolitre {
                line += String(format: ", %d parasitized: parasitemia %.2f%% (95%% CI %.2f–%.2f%%), %.0f parasites/µL",
                               s.parasitized ?? 0, p, ci[0], ci[1], perUL)
            }
            if let a = s.adjustedParasitemiaPercent, let ci = s.adjustedParasitemiaCi95Percent {
                line += String(format: "; adjusted for the classifier's errors %.2f%% (%.2f–%.2f%%)", a, ci[0], ci[1])
            }
            if !s.targetReached { line += "; target of \(s.targetCells ?? 0) cells NOT reached" }
            lines.append(line)
        }
        if report.samples.isEmpty {
            var line = "\(report.totals.cellsCounted) red cells counted in \(report.countedIn)"
            if let k = report.totals.parasitized, let p = report.totals.parasitemiaPercent {
                line += String(format: ", %d parasitized (%.2f%%", k, p)
                if let a = report.totals.adjustedParasitemiaPercent { line += String(format: "; adjusted for the classifier's errors %.2f%%", a) }
                line += ")"
            }
            lines.append(line)
        }
        lines.append("results in \(out)")
        return lines.joined(separator: "\n") + "\n"
    }
}
