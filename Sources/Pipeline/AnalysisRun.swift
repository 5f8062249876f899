import Foundation
import ImageCodecs
import Slides

/// One analysis as the library runs it, whatever presents it (the `smear` commands, the web app):
/// samples of fields analysed in order, each to its target count, with every step reported to sinks
/// as it happens (`AnalysisEvent`). The run owns the processing sequence (decode, segment, quality
/// control, classify, Grad-CAM) and every figure; a sink only presents or stores what it is given.
///
/// Fields are analysed `threads` at a time, in waves; a sample with a target stops after the field
/// in which its count of counted cells reaches the target (fields analysed alongside beyond that one
/// are dropped unseen). A field that fails quality control is reported (`.fieldAnalysed`, for its
/// overlay, and `.failed`) but not counted. Cost: the fields' analysis, parallel over fields.
public struct AnalysisRun: Sendable {
    /// One patient's fields, counted to `target` red cells (nil: all of them). A plain batch of fields
    /// is one sample with an empty name and no target.
    public struct Sample: Sendable {
        public var name: String
        public var paths: [String]
        public var target: Int?
        /// Whether the sample is one slide (`paths` then holds its path), analysed tile by tile.
        public var isSlide: Bool

        /// Fields in `paths`.
        public init(name: String, paths: [String], target: Int?) {
            self.name = name
            self.paths = paths
            self.target = target
            isSlide = false
        }

        /// The slide at `slide` (`Slides.Slide`), counted in tiles to `target` cells (nil: all of its
        /// counting area).
        public init(name: String, slide: String, target: Int?) {
            self.init(name: name, paths: [slide], target: target)
            isSlide = true
        }

        /// Whether the file at `path` is analysed as a slide (`Slide.isSlide`): a tiled or pyramidal
        /// file, or a TIFF over the field size limit. A PNG or JPEG over the limit cannot be read region
        /// by region; it stays a field, which the size limit refuses with one line. Cost: a header read.
        public static func isSlideFile(_ path: String) -> Bool {
            guard Slide.isSlide(path: path) else { return false }
            let head = (FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 8) }).map { [UInt8]($0) } ?? []
            return ImageCodecs.detectFormat(head) != .png && ImageCodecs.detectFormat(head) != .jpeg
        }
    }

    public var samples: [Sample]
    public var analyzer: FieldAnalyzer
    /// Fields analysed at once (one per thread).
    public var threads: Int
    /// Whether to compute the Grad-CAM map of every cell called parasitized (for overlays).
    public var heatmaps: Bool
    /// Red-cell density for parasites per µL.
    public var redCellsPerMicrolitre: Double
    /// Where slides keep their tiles' analyses as they are made (`TileCheckpoints`, a folder per slide
    /// under `folder`), `settings` naming what changes an analysis (model, threshold…), and whether to
    /// resume from those kept by an interrupted run; nil: none kept.
    public var checkpoints: (folder: String, settings: String, resume: Bool)?

    public init(samples: [Sample], analyzer: FieldAnalyzer, threads: Int, heatmaps: Bool = false,
                redCellsPerMicrolitre: Double = 5.0e6) {
        self.samples = samples
        self.analyzer = analyzer
        self.threads = threads
        self.heatmaps = heatmaps
        self.redCellsPerMicrolitre = redCellsPerMicrolitre
    }

    /// Runs the analysis, sending every event to each sink in turn, and returns the result (also sent
    /// as `.finished`). A `PipelineError` thrown by a sink for `.fieldAnalysed` fails that field; any
    /// other error stops the run and is rethrown once the wave in progress is done.
    @discardableResult
    public func run(_ sinks: [any AnalysisSink]) throws -> AnalysisResult {
        let send: @Sendable (AnalysisEvent) throws -> Void = { event in for sink in sinks { try sink.receive(event) } }
        let total = samples.reduce(0) { $0 + $1.paths.count }
        var done = 0
        var counts: [SampleCount] = []
        var slides: [SlideCount] = []
        var failures: [FieldFailure] = []
        for sample in samples {
            if sample.isSlide, let path = sample.paths.first {
                do {
                    let slide: Slide
                    do throws(ImageError) { slide = try Slide(path: path) } catch { throw PipelineError(error.description) }
                    let (count, failure) = try analyseSlide(slide, sample: sample, send: send)
                    slides.append(count)
                    if let failure { failures.append(failure); try send(.failed(failure)) }
                } catch let error as PipelineError {
                    // The slide cannot be read or planned: one line, and no figure for it.
                    let failure = FieldFailure(path: path, message: error.description)
                    failures.append(failure)
                    try send(.failed(failure))
                }
                continue
            }
            var fields: [FieldAnalysis] = []
            var sampleFailures: [(index: Int, failure: FieldFailure)] = []
            var counted = 0
            var next = 0
            let wave = max(1, threads)
            while next < sample.paths.count && (sample.target.map { counted < $0 } ?? true) {
                let first = next
                let slice = Array(sample.paths[next..<min(sample.paths.count, next + wave)])
                next += slice.count
                let results = parallelMap(count: slice.count, threads: threads) { i -> Result<AnalysedField, PipelineError> in
                    do throws(PipelineError) { return .success(try analyse(slice[i], sample: sample.name)) } catch { return .failure(error) }
                }
                // Keep fields in order up to the one that reaches the target.
                var kept: [(index: Int, field: AnalysedField)] = []
                for (i, r) in results.enumerated() {
                    if let target = sample.target, counted >= target { break }
                    switch r {
                    case .success(let analysed):
                        kept.append((first + i, analysed))
                        if analysed.field.quality.problem == nil { counted += analysed.field.cellsCounted }
                    case .failure(let e):
                        sampleFailures.append((first + i, FieldFailure(path: slice[i], message: e.description)))
                    }
                    done += 1
                    try send(.progress(done: done, total: total, item: slice[i]))
                }
                let accepted = kept
                let outcomes = parallelMap(count: accepted.count, threads: threads) { i -> (any Error)? in
                    do { try send(.fieldAnalysed(accepted[i].field)); return nil } catch { return error }
                }
                for ((index, analysed), error) in zip(kept, outcomes) {
                    let field = analysed.field
                    switch error {
                    case nil:
                        if let problem = field.quality.problem {
                            sampleFailures.append((index, FieldFailure(path: field.path, message: "\(field.name): failed quality control: \(problem)", rejected: field)))
                        } else {
                            fields.append(field)
                        }
                    case let fieldError as PipelineError: sampleFailures.append((index, FieldFailure(path: field.path, message: fieldError.description)))
                    case let runError?: throw runError
                    }
                }
            }
            for (_, failure) in sampleFailures.sorted(by: { $0.index < $1.index }) {
                failures.append(failure)
                try send(.failed(failure))
            }
            counts.append(SampleCount(name: sample.name, fields: fields, fieldsAvailable: sample.paths.count,
                                      targetCells: sample.target, redCellsPerMicrolitre: redCellsPerMicrolitre))
        }
        let result = AnalysisResult(samples: counts, slides: slides, failures: failures)
        try send(.finished(result))
        return result
    }

    /// Analyses one field, with the Grad-CAM maps of its parasitized cells when asked for (and when it
    /// passes quality control: the maps are for checking calls that count).
    func analyse(_ path: String, sample: String) throws(PipelineError) -> AnalysedField {
        let (field, image) = try analyzer.analyze(path: path)
        return AnalysedField(field: field, image: image, heatmaps: field.quality.problem == nil ? heatmaps(field, image: image) : [:],
                             sample: sample)
    }

    /// The Grad-CAM map of each cell of `field` called parasitized, by object id, when asked for.
    func heatmaps(_ field: FieldAnalysis, image: RGBImage) -> [Int: [Float]] {
        guard heatmaps, let classifier = analyzer.classifier, let positive = classifier.positiveClassIndex else { return [:] }
        var maps: [Int: [Float]] = [:]
        for object in field.segmentation.objects where field.calls[object.id]?.parasitized == true {
            maps[object.id] = classifier.heatmap(of: object, in: image, classIndex: positive)
        }
        return maps
    }
}

/// What an `AnalysisRun` reports, in this order: per field, `.progress` once it is analysed (or has
/// failed), then `.fieldAnalysed` for those analysed; per sample, its `.failed` inputs in input order;
/// per slide, `.progress` and `.tileAnalysed` per tile (progress counts the slide's tiles), then
/// `.failed` if it could not be read in full; `.finished` once at the end. `.fieldAnalysed` and
/// `.tileAnalysed` may arrive from several threads at once.
public enum AnalysisEvent: Sendable {
    case progress(done: Int, total: Int, item: String)
    case fieldAnalysed(AnalysedField)
    case tileAnalysed(AnalysedTile)
    case failed(FieldFailure)
    case finished(AnalysisResult)
}

/// Receives a run's events: writes an output folder, stores them in the web app's database, shows progress.
public protocol AnalysisSink: Sendable {
    /// Handles one event. For `.fieldAnalysed`, a `PipelineError` fails that field (e.g. its overlay
    /// cannot be drawn); any other error (an output folder that cannot be written) stops the run.
    func receive(_ event: AnalysisEvent) throws
}

/// A field as analysed, with its decoded image (for overlays and crops) and the Grad-CAM maps of its
/// parasitized cells (by object id; empty unless asked for).
public struct AnalysedField: Sendable {
    public var field: FieldAnalysis
    public var image: RGBImage
    public var heatmaps: [Int: [Float]]
    /// The sample's name (empty for a plain batch).
    public var sample: String
}

/// An input that was not counted: it could not be read or segmented, or it failed quality control
/// (`rejected` then holds its analysis, for its overlay and measures).
public struct FieldFailure: Sendable {
    public var path: String
    /// One line naming the file and the reason.
    public var message: String
    public var rejected: FieldAnalysis?

    public init(path: String, message: String, rejected: FieldAnalysis? = nil) {
        self.path = path
        self.message = message
        self.rejected = rejected
    }
}

/// Everything a run found: each sample's counted fields and figures, each slide's count, and the
/// inputs not counted.
public struct AnalysisResult: Sendable {
    /// Samples of fields (a slide is in `slides`).
    public var samples: [SampleCount]
    public var slides: [SlideCount]
    public var failures: [FieldFailure]

    public init(samples: [SampleCount], slides: [SlideCount] = [], failures: [FieldFailure]) {
        self.samples = samples
        self.slides = slides
        self.failures = failures
    }

    /// The counts and figures of all counted fields and slide tiles together.
    public var totals: Tally { Tally.sum(samples.map(\.tally) + slides.map(\.tally)) }
    /// Every counted field, in order.
    public var fields: [FieldAnalysis] { samples.flatMap(\.fields) }
}
