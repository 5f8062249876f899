import Classifier
import Foundation
import Pipeline

/// `smear validate` as the sink of a run: each counted field compared with its expert annotations
/// (`FieldValidation`) and, with an output folder, drawn with them (`Overlay.renderValidation`); each
/// slide's tiles taken in by a `SlideValidation` and, with an output folder, its annotations and counted
/// cells with what became of each written to `slides/NAME/matches.csv` (`ValidationMatches`; slides get
/// no overlays). When the run finishes, the `ValidationReport` (fields, then each slide's rows), written
/// as validation.json and validation.csv and the folder committed. Fields that failed quality control
/// are not compared (the run lists them as failures). Safe to receive fields and tiles from several
/// threads at once.
public final class ValidationFolder: AnalysisSink, @unchecked Sendable {
    let annotations: [String: [Annotation]]
    let mosaics: [String: [MosaicField]]
    let folder: OutputFolder?
    let overlays: [String: String]
    let classifier: String?
    let threshold: Double?
    let operatingPoint: OperatingPoint?
    let version: String
    private var validations: [String: FieldValidation] = [:]
    private var slides: [String: SlideValidation] = [:]
    private var finished: ValidationReport?
    private let lock = NSLock()

    /// `annotations` by image (or slide) file name; `mosaics`: where the fields of slides made of fields
    /// lie, by slide file name (`MosaicField`); `paths`: every input, to name the overlays; `classifier`
    /// and `threshold`: the model's name and decision threshold when one runs; `operatingPoint`: the
    /// model's, when the run uses it (then adjusted parasitemias are given too).
    public init(annotations: [String: [Annotation]], mosaics: [String: [MosaicField]] = [:], folder: OutputFolder?,
                paths: [String], classifier: String?, threshold: Double?, operatingPoint: OperatingPoint? = nil, version: String) {
        self.annotations = annotations
        self.mosaics = mosaics
        self.folder = folder
        overlays = Dictionary(zip(paths, overlayFileNames(for: paths)), uniquingKeysWith: { first, _ in first })
        self.classifier = classifier
        self.threshold = threshold
        self.operatingPoint = operatingPoint
        self.version = version
    }

    /// The report, once the run has finished.
    public var report: ValidationReport? {
        lock.lock(); defer { lock.unlock() }
        return finished
    }

    public func receive(_ event: AnalysisEvent) throws {
        switch event {
        case .fieldAnalysed(let analysed):
            let field = analysed.field
            guard field.quality.problem == nil else { return }
            let truth = annotations[field.name] ?? []
            let validation = FieldValidation(image: field.name, segmentation: field.segmentation, annotations: truth, calls: field.calls)
            if let folder {
                let overlay = Overlay.renderValidation(analysed.image, name: field.name, segmentation: field.segmentation,
                                                       annotations: truth, validation: validation)
                try folder.write(Data(encodePNG(overlay, of: field)), to: overlays[field.path]!)
            }
            lock.lock()
            validations[field.path] = validation
            lock.unlock()
        case .tileAnalysed(let tile):
            let slide = lock.withLock {
                if let known = slides[tile.slide] { return known }
                let name = (tile.slide as NSString).lastPathComponent
                let created = SlideValidation(slide: name, annotations: annotations[name] ?? [], mosaic: mosaics[name] ?? [])
                slides[tile.slide] = created
                return created
            }
            slide.add(tile)
        case .finished(let result):
            let fields = result.fields.compactMap { f in lock.withLock { validations[f.path] } }
            var slideResults: [SlideValidation.Result] = []
            for count in result.slides {
                guard let slide = lock.withLock({ slides[count.path] }) else { continue }
                let outcome = slide.finish(count)
                slideResults.append(outcome)
                if let folder, let overlay = overlays[count.path] {
                    let stem = ((overlay as NSString).lastPathComponent as NSString).deletingPathExtension
                    try folder.write(Data(ValidationMatches.csv(outcome).utf8), to: "slides/\(stem)/matches.csv")
                }
            }
            let report = ValidationReport(version: version, summary: ValidationSummary(fields: fields + slideResults.flatMap(\.fields)),
                                          failures: result.failures.map { AnalysisReport.Failure(file: $0.path, error: $0.message) },
                                          classifier: classifier, threshold: threshold, operatingPoint: operatingPoint,
                                          slides: slideResults.map(ValidationMatches.summary))
            if let folder {
                try folder.write(report.json(), to: "validation.json")
                try folder.write(Data(report.csv().utf8), to: "validation.csv")
                try folder.commit()
            }
            lock.lock()
            finished = report
            lock.unlock()
        case .progress, .failed: break
        }
    }
}

/// `smear crops` as the sink of a run: every counted cell that an expert annotation of class
/// parasitized or uninfected matches (the rules of `FieldValidation`) is written as its masked crop
/// (with a ring of `context`: `DetectedObject.crop(from:context:)`) into `CLASS/NAME_cell_ID.png` of
/// the folder, which is committed when the run finishes. Fields that failed quality control give no
/// crops. Safe to receive fields from several threads at once.
public final class TrainingCrops: AnalysisSink, @unchecked Sendable {
    let annotations: [String: [Annotation]]
    let folder: OutputFolder
    let overlays: [String: String]
    let context: Float
    private var written: [String: Int] = [:]
    private let lock = NSLock()

    public init(annotations: [String: [Annotation]], folder: OutputFolder, paths: [String], context: Float = 0) {
        self.annotations = annotations
        self.context = context
        self.folder = folder
        overlays = Dictionary(zip(paths, overlayFileNames(for: paths)), uniquingKeysWith: { first, _ in first })
    }

    /// Crops written so far, by class.
    public var counts: [String: Int] {
        lock.lock(); defer { lock.unlock() }
        return written
    }

    public func receive(_ event: AnalysisEvent) throws {
        switch event {
        case .fieldAnalysed(let analysed):
            let field = analysed.field
            guard field.quality.problem == nil else { return }
            let truth = annotations[field.name] ?? []
            let validation = FieldValidation(image: field.name, segmentation: field.segmentation, annotations: truth)
            var counts: [String: Int] = [:]
            for pair in validation.pairs {
                let kind = truth[pair.annotation].kind
                guard kind == .parasitized || kind == .uninfected,
                      let object = field.segmentation.objects.first(where: { $0.id == pair.detection }) else { continue }
                try folder.write(Data(encodePNG(object.crop(from: analysed.image, context: context), of: field)),
                                 to: "\(kind.rawValue)/" + cellFileName(overlay: overlays[field.path]!, id: object.id))
                counts[kind.rawValue, default: 0] += 1
            }
            lock.lock()
            written.merge(counts, uniquingKeysWith: +)
            lock.unlock()
        case .finished:
            try folder.commit()
        case .progress, .failed, .tileAnalysed: break
        }
    }
}
