import Foundation
import ImageCodecs
import Pipeline

/// A run's results kept in memory instead of a folder, for a program that shows them itself (the web
/// app): every analysed field (without its image) with its overlay as PNG bytes, the failures as they
/// come, and at the end the result and the same `AnalysisReport` that `ReportFolder` writes (slides:
/// their tile tables and figures, not their cells). Safe to
/// receive fields from several threads at once; read it from any thread.
public final class AnalysisCollector: AnalysisSink, @unchecked Sendable {
    let settings: AnalysisReport.Settings
    let version: String
    let classified: Bool
    private var fields: [String: FieldAnalysis] = [:]
    private var pictures: [String: [UInt8]] = [:]
    private var failed: [FieldFailure] = []
    private var progress: (done: Int, total: Int) = (0, 0)
    private var finished: (result: AnalysisResult, report: AnalysisReport)?
    private let lock = NSLock()

    public init(settings: AnalysisReport.Settings, version: String, classified: Bool) {
        self.settings = settings
        self.version = version
        self.classified = classified
    }

    public func receive(_ event: AnalysisEvent) throws {
        switch event {
        case .progress(let done, let total, _):
            locked { progress = (done, total) }
        case .fieldAnalysed(let analysed):
            let field = analysed.field
            let notice = field.quality.problem.map { "NOT COUNTED, failed quality control: " + $0 }
            let overlay = try encodePNG(Overlay.render(analysed.image, name: field.name, segmentation: field.segmentation,
                                                       calls: field.calls, heatmaps: analysed.heatmaps, notice: notice), of: field)
            locked {
                fields[field.path] = field
                pictures[field.path] = overlay
            }
        case .tileAnalysed:
            break   // a slide's tiles are summed up in the result (`SlideCount.tiles`); their cells are not kept
        case .failed(let failure):
            locked { failed.append(failure) }
        case .finished(let result):
            let report = AnalysisReport(version: version, settings: settings, result: result, overlays: [:], classified: classified)
            locked { finished = (result, report) }
        }
    }

    /// Fields analysed so far (counted or not), by path.
    public var analysed: [String: FieldAnalysis] { locked { fields } }
    /// The overlay of an analysed field, as PNG bytes.
    public func overlay(of path: String) -> [UInt8]? { locked { pictures[path] } }
    /// Inputs not counted so far, in the order reported.
    public var failures: [FieldFailure] { locked { failed } }
    /// Inputs done so far, of all.
    public var done: (done: Int, total: Int) { locked { progress } }
    /// The result and its report, once the run has finished.
    public var result: (result: AnalysisResult, report: AnalysisReport)? { locked { finished } }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }
}
