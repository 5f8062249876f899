import Foundation
import ImageCodecs
import Pipeline

/// The output folder of `smear analyze` as the sink of a run. As each field is analysed: its overlay
/// (with a NOT COUNTED notice when it failed quality control) and, for a counted field, the gallery
/// pictures of its parasitized cells and, with a crops folder, a masked crop of every counted cell.
/// When the run finishes: report.json, cells.csv and report.html, then both folders committed (see
/// `OutputFolder`: nothing appears before). Safe to receive fields from several threads at once.
public final class ReportFolder: AnalysisSink, @unchecked Sendable {
    let folder: OutputFolder
    let crops: OutputFolder?
    /// Overlay path (relative to the folder) of each input path.
    let overlays: [String: String]
    let settings: AnalysisReport.Settings
    let version: String
    let classified: Bool
    let gallery = ParasitizedGallery()
    private var finished: AnalysisReport?
    private let lock = NSLock()

    /// `paths`: every input of the run, to name the overlays (`overlayFileNames`); `classified`:
    /// whether a classifier runs.
    public init(folder: OutputFolder, crops: OutputFolder? = nil, paths: [String], settings: AnalysisReport.Settings,
                version: String, classified: Bool) {
        self.folder = folder
        self.crops = crops
        overlays = Dictionary(zip(paths, overlayFileNames(for: paths)), uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.version = version
        self.classified = classified
    }

    /// The report written, once the run has finished.
    public var report: AnalysisReport? {
        lock.lock(); defer { lock.unlock() }
        return finished
    }

    public func receive(_ event: AnalysisEvent) throws {
        switch event {
        case .fieldAnalysed(let analysed): try write(analysed)
        case .finished(let result): try finish(result)
        case .progress, .failed: break
        }
    }

    func write(_ analysed: AnalysedField) throws {
        let field = analysed.field, overlay = overlays[field.path]!
        let notice = field.quality.problem.map { "NOT COUNTED, failed quality control: " + $0 }
        let picture = Overlay.render(analysed.image, name: field.name, segmentation: field.segmentation, calls: field.calls,
                                     heatmaps: analysed.heatmaps, notice: notice)
        try folder.write(Data(encodePNG(picture, of: field)), to: overlay)
        guard notice == nil else { return }
        try gallery.add(field: field, image: analysed.image, overlay: overlay, to: folder)
        if let crops {
            for object in field.segmentation.objects where object.status == .counted {
                try crops.write(Data(encodePNG(object.crop(from: analysed.image), of: field)),
                                to: cellFileName(overlay: overlay, id: object.id))
            }
        }
    }

    func finish(_ result: AnalysisResult) throws {
        let drawn = Set(result.fields.map(\.path) + result.failures.compactMap(\.rejected?.path))
        let report = AnalysisReport(version: version, settings: settings, result: result,
                                    overlays: overlays.filter { drawn.contains($0.key) }, classified: classified)
        try folder.write(report.json(), to: "report.json")
        try folder.write(Data(report.csv().utf8), to: "cells.csv")
        try folder.write(Data(HTMLReport(report: report, gallery: gallery.items).html().utf8), to: "report.html")
        try folder.commit()
        try crops?.commit()
        lock.lock()
        finished = report
        lock.unlock()
    }
}

/// Encodes a picture made from `field` as PNG; a failure (an empty picture) fails that field only.
func encodePNG(_ image: RGBImage, of field: FieldAnalysis) throws(PipelineError) -> [UInt8] {
    do { return try ImageCodecs.encodePNG(image) } catch { throw PipelineError("\(field.name): \(error)") }
}
