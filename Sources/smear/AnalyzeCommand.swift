import ArgumentParser
import Foundation
import ImageCodecs
import Pipeline
import Reports
import Segmentation

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find and count the red blood cells in smear fields.",
        discussion: """
        Every IMAGE (PNG, JPEG or TIFF; a folder means every image in it, in name order) is segmented: \
        each red blood cell is found and outlined; cells cut by the image border, white blood cells and \
        debris are shown but not counted. Writes, into the output folder:
          report.json         every field and every object (bounding box, centroid, area, status)
          cells.csv           the same objects, one line each
          overlays/NAME.png   each field with its objects outlined and numbered, and a legend
        Files appear only when the run is complete. The exit status is non-zero if any input failed; \
        the others are still analysed and the failures are listed in report.json.
        """)

    @Argument(help: "Field images or folders of them.")
    var images: [String]

    @Option(help: "Output folder.")
    var out: String

    @Option(help: ArgumentHelp("Also write a masked crop of every counted cell into this folder.", valueName: "dir"))
    var crops: String?

    @Option(help: "Typical red-cell diameter in pixels (default: estimated from each image).")
    var cellDiameter: Double?

    @Flag(help: "Print report.json to standard output as well.")
    var json = false

    @Option(help: "Threads to use.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if let d = cellDiameter, !(d >= 4 && d <= 2000) { throw ValidationError("--cell-diameter must be between 4 and 2000 pixels") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let paths = try expandInputs(images)
        let folder = try OutputFolder(path: out)
        let cropFolder = try crops.map { try OutputFolder(path: $0) }
        let analyzer = FieldAnalyzer(segmenter: CellSegmenter(parameters: SegmentationParameters(cellDiameter: cellDiameter)))
        let overlayNames = uniqueOverlayNames(paths)
        let progress = Progress(total: paths.count, enabled: paths.count > 1)

        let results = parallelMap(count: paths.count, threads: threads) { i -> Result<FieldAnalysis, PipelineError> in
            defer { progress.step(paths[i]) }
            do throws(PipelineError) {
                let (field, image) = try analyzer.analyze(path: paths[i])
                let overlay = Overlay.render(image, name: field.name, segmentation: field.segmentation)
                do {
                    try folder.write(Data(ImageCodecs.encodePNG(overlay)), to: overlayNames[i])
                    if let cropFolder {
                        let stem = ((field.name as NSString).deletingPathExtension)
                        for object in field.segmentation.objects where object.status == .counted {
                            try cropFolder.write(Data(ImageCodecs.encodePNG(object.crop(from: image))),
                                                 to: "\(stem)_cell_\(object.id).png")
                        }
                    }
                } catch {
                    throw PipelineError("\(field.name): \(error)")
                }
                return .success(field)
            } catch {
                return .failure(error)
            }
        }
        progress.finish()

        var fields: [FieldAnalysis] = []
        var failures: [AnalysisReport.Failure] = []
        var overlays: [String: String] = [:]
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let field):
                fields.append(field)
                overlays[field.path] = overlayNames[i]
            case .failure(let error):
                failures.append(AnalysisReport.Failure(file: paths[i], error: error.description))
                printError(error.description)
            }
        }
        let report = AnalysisReport(version: smearVersion, fields: fields, failures: failures, overlays: overlays)
        let json = try report.json()
        try folder.write(json, to: "report.json")
        try folder.write(Data(report.csv().utf8), to: "cells.csv")
        try folder.commit()
        try cropFolder?.commit()
        if self.json { FileHandle.standardOutput.write(json) }
        FileHandle.standardError.write(Data(
            "\(report.totals.cellsCounted) red cells counted in \(fields.count) field\(fields.count == 1 ? "" : "s"); results in \(out)\n".utf8))
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

/// `overlays/<stem>.png` for each path, with `-2`, `-3`… added where two inputs share a stem.
func uniqueOverlayNames(_ paths: [String]) -> [String] {
    var used: [String: Int] = [:]
    return paths.map { path in
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        used[stem, default: 0] += 1
        let n = used[stem]!
        return "overlays/" + (n == 1 ? stem : "\(stem)-\(n)") + ".png"
    }
}
