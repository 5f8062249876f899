import Classifier
import Foundation
import ImageCodecs
import Pipeline
import Reports
import Segmentation

/// The settings of one analysis, stored with it (JSON in `analysis.settings`).
public struct AnalysisSettings: Codable, Sendable, Equatable {
    /// Red cells to count (nil: every field, or a slide's whole counting area).
    public var targetCells: Int?
    /// Typical red-cell diameter in pixels (nil: estimated).
    public var cellDiameter: Double?
    public var redCellsPerMicrolitre: Double

    public init(targetCells: Int?, cellDiameter: Double? = nil, redCellsPerMicrolitre: Double = 5.0e6) {
        self.targetCells = targetCells
        self.cellDiameter = cellDiameter
        self.redCellsPerMicrolitre = redCellsPerMicrolitre
    }
}

/// Runs queued analyses in the background, at most `workers` at once (each on all `threads`), so that
/// any number of queued analyses uses bounded memory. Each is one library `AnalysisRun` with two sinks:
/// `StoreSink` (every field into the database as soon as it is analysed) and `ReportFolder` (the files
/// `smear analyze` writes, in `samples/ID/analysis-N/output/`, which appear when the run completes).
/// An analysis that fails is marked failed with its reason; the others go on. Analyses the database
/// finds running at start-up were cut short by a stopped server: they are marked interrupted (`start`),
/// and a resumed one keeps the fields already stored; a slide's tiles come from its tile checkpoints.
public final class AnalysisQueue: @unchecked Sendable {
    let store: Store
    let dataRoot: String
    let workers: Int
    let threads: Int
    let classifier: CellClassifier
    /// The model's name, as stored with each analysis.
    public let modelName: String
    /// The decision threshold of new analyses.
    public let threshold: Double

    /// The model's operating point when `analysis` was made with this queue's model at it (its
    /// threshold and the classifier's symmetries), else nil: then no adjusted figure is given.
    func operatingPoint(of analysis: AnalysisRow) -> OperatingPoint? {
        analysis.model == modelName ? classifier.operatingPoint(at: analysis.threshold) : nil
    }
    private let condition = NSCondition()
    private var running = 0
    private var stopping = false

    public init(store: Store, dataRoot: String, classifier: CellClassifier, modelName: String, threshold: Double,
                workers: Int = 1, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.store = store
        self.dataRoot = dataRoot
        self.classifier = classifier
        self.modelName = modelName
        self.threshold = threshold
        self.workers = max(1, workers)
        self.threads = max(1, threads)
    }

    /// Marks analyses left running by a previous server as interrupted, then starts the workers.
    public func start() throws {
        try store.markInterrupted()
        for _ in 0..<workers {
            let thread = Thread { [self] in loop() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Tells the workers that an analysis was queued.
    public func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Lets the workers end once their analysis in progress (if any) is done; none is started after.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Analyses running now.
    public var busy: Int {
        condition.lock(); defer { condition.unlock() }
        return running
    }

    func loop() {
        while true {
            condition.lock()
            let stop = stopping
            condition.unlock()
            if stop { return }
            if let analysis = try? store.claimNext() {
                condition.lock(); running += 1; condition.unlock()
                run(analysis)
                condition.lock(); running -= 1; condition.unlock()
            } else {
                condition.lock()
                _ = condition.wait(until: Date().addingTimeInterval(2))
                condition.unlock()
            }
        }
    }

    /// The folder of an analysis's files, relative to the data root.
    static func folder(sample: Int64, analysis: Int64) -> String { "samples/\(sample)/analysis-\(analysis)" }

    /// The run's samples of a sample's inputs: its fields as one sample, each slide as its own.
    static func samples(name: String, inputs: [InputRow], target: Int?, dataRoot: String) -> [AnalysisRun.Sample] {
        let absolute = { (relative: String) in (dataRoot as NSString).appendingPathComponent(relative) }
        var samples: [AnalysisRun.Sample] = []
        let fields = inputs.filter { $0.kind == "field" }.map { absolute($0.path) }
        if !fields.isEmpty { samples.append(.init(name: name, paths: fields, target: target)) }
        for slide in inputs where slide.kind == "slide" {
            samples.append(.init(name: (slide.name as NSString).deletingPathExtension, slide: absolute(slide.path), target: target))
        }
        return samples
    }

    /// Runs one analysis to its end and stores how it ended.
    func run(_ analysis: AnalysisRow) {
        do {
            try store.finish(analysis: analysis.id, error: try analyse(analysis))
        } catch {
            try? store.finish(analysis: analysis.id, error: "\(error)")
        }
    }

    /// Analyses the sample's inputs; returns nil when it completed (inputs that failed are listed as
    /// failures), or the reason it failed as a whole.
    func analyse(_ analysis: AnalysisRow) throws -> String? {
        let settings = try JSONDecoder().decode(AnalysisSettings.self, from: Data(analysis.settings.utf8))
        let sample = try store.sample(analysis.sampleId)
        let inputs = try store.inputs(sample: analysis.sampleId)
        let absolute = { (relative: String) in (self.dataRoot as NSString).appendingPathComponent(relative) }
        let samples = Self.samples(name: sample.name, inputs: inputs, target: settings.targetCells, dataRoot: dataRoot)
        guard !samples.isEmpty else { return "the sample has no images" }
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: settings.cellDiameter)),
                                     classifier: classifier, threshold: analysis.threshold)
        var run = AnalysisRun(samples: samples, analyzer: analyzer, threads: threads, heatmaps: true,
                              redCellsPerMicrolitre: settings.redCellsPerMicrolitre)
        let base = Self.folder(sample: analysis.sampleId, analysis: analysis.id)
        let output = absolute(base + "/output")
        if samples.contains(where: \.isSlide) {
            run.checkpoints = (absolute(base + "/tiles"), "model \(analysis.model) threshold \(analysis.threshold) symmetries \(classifier.symmetries) \(analysis.settings)", true)
        }
        let folder = try OutputFolder(path: output, wait: false)
        let report = try ReportFolder(folder: folder, paths: samples.flatMap(\.paths), settings: AnalysisReport.Settings(
            model: analysis.model, threshold: analysis.threshold, cellDiameter: settings.cellDiameter, targetCells: settings.targetCells,
            redCellsPerMicrolitre: settings.redCellsPerMicrolitre, symmetries: classifier.symmetries,
            operatingPoint: classifier.operatingPoint(at: analysis.threshold)), version: smearVersion, classified: true)
        let sink = StoreSink(store: store, analysis: analysis.id, dataRoot: dataRoot, folder: base, classifier: classifier)
        let result: AnalysisResult
        do {
            result = try run.run([sink, report])
        } catch {
            folder.discard()
            throw error
        }
        try? FileManager.default.removeItem(atPath: absolute(base + "/tiles"))
        let analysed = result.samples.reduce(0) { $0 + $1.fields.count } + result.slides.count
        if analysed == 0, !result.failures.isEmpty {
            return result.failures.count == 1 ? result.failures[0].message : "no input could be counted (\(result.failures.count) failed; see the list)"
        }
        return nil
    }
}

/// Stores a running analysis: each field (or slide tile) with all its objects as soon as it is
/// analysed, in one transaction, after writing its overlay (fields) and the pictures of its review
/// candidates (`Review.isCandidate`, with Grad-CAM tint) under the analysis's folder; the inputs that
/// fail; and the progress. A field already stored (a resumed analysis) is skipped. Safe from several
/// threads at once.
final class StoreSink: AnalysisSink, @unchecked Sendable {
    let store: Store
    let analysis: Int64
    let dataRoot: String
    /// The analysis's folder, relative to the data root.
    let folder: String
    let classifier: CellClassifier

    init(store: Store, analysis: Int64, dataRoot: String, folder: String, classifier: CellClassifier) {
        self.store = store
        self.analysis = analysis
        self.dataRoot = dataRoot
        self.folder = folder
        self.classifier = classifier
    }

    func receive(_ event: AnalysisEvent) throws {
        switch event {
        case .progress(let done, let total, _):
            try store.setProgress(analysis: analysis, done: done, total: total)
        case .fieldAnalysed(let analysed):
            let field = analysed.field
            try save(field, image: analysed.image, heatmaps: analysed.heatmaps, name: field.name, input: field.path,
                     origin: (0, 0), problem: field.quality.problem, overlay: true)
        case .tileAnalysed(let tile):
            try save(tile.field, image: tile.image, heatmaps: tile.heatmaps, name: "tile \(tile.tile.index)", input: tile.slide,
                     origin: (tile.tile.read.x, tile.tile.read.y), problem: tile.unfit, overlay: false)
        case .failed(let failure):
            guard failure.rejected == nil else { return }   // a field that failed quality control is stored as not counted
            try store.insertFailure(analysis: analysis, input: (failure.path as NSString).lastPathComponent, message: failure.message)
        case .finished:
            break
        }
    }

    /// Writes the field's pictures, then stores it (so no stored row names a missing file).
    func save(_ field: FieldAnalysis, image: RGBImage, heatmaps: [Int: [Float]], name: String, input: String,
              origin: (x: Int, y: Int), problem: String?, overlay: Bool) throws {
        guard try !store.hasField(analysis: analysis, name: name) else { return }
        // Names are unique in an analysis (the inputs' file names; "tile N"), and so are these.
        let overlayName = overlayFileNames(for: [name])[0]
        let counted = problem == nil
        var overlayPath: String?
        if overlay {
            let notice = problem.map { "NOT COUNTED, failed quality control: " + $0 }
            let picture = Overlay.render(image, name: field.name, segmentation: field.segmentation, calls: field.calls,
                                         heatmaps: heatmaps, notice: notice)
            overlayPath = folder + "/" + overlayName
            try write(ImageCodecs.encodePNG(picture), to: overlayPath!)
        }
        var cells: [StoredCell] = []
        cells.reserveCapacity(field.segmentation.objects.count)
        for object in field.segmentation.objects {
            let call = field.calls[object.id]
            var picture: String?
            if counted, object.status == .counted, let call, Review.isCandidate(call) {
                let heat = heatmaps[object.id] ?? classifier.positiveClassIndex.map {
                    classifier.heatmap(of: object, in: image, classIndex: $0)
                }
                picture = folder + "/cells/" + cellFileName(overlay: overlayName, id: object.id)
                try write(ImageCodecs.encodePNG(ParasitizedGallery.picture(of: object, in: image, heat: heat)), to: picture!)
            }
            cells.append(StoredCell(objectId: object.id, x: origin.x + object.x, y: origin.y + object.y, width: object.width,
                                    height: object.height, centroidX: Double(origin.x) + object.centroidX,
                                    centroidY: Double(origin.y) + object.centroidY, area: object.area, status: object.status.rawValue,
                                    class: call.map { $0.parasitized ? "parasitized" : "uninfected" }, pParasitized: call?.pParasitized,
                                    picture: picture, feature: SlideOutputs.feature(object, call: call, origin: origin)))
        }
        try store.insert(field: FieldRow(id: 0, name: name, input: (input as NSString).lastPathComponent, originX: origin.x,
                                         originY: origin.y, width: field.width, height: field.height, counted: counted, problem: problem,
                                         cellsCounted: field.cellsCounted, parasitized: field.parasitized, overlay: overlayPath),
                         cells: cells, analysis: analysis)
    }

    func write(_ bytes: [UInt8], to relative: String) throws {
        let path = (dataRoot as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
