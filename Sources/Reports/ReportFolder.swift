import Foundation
import ImageCodecs
import Pipeline

/// The output folder of `smear analyze` as the sink of a run. As each field is analysed: its overlay
/// (with a NOT COUNTED notice when it failed quality control) and, for a counted field, the gallery
/// pictures of its parasitized cells and, with a crops folder, a masked crop of every counted cell
/// (and of every leukocyte, in its `leukocytes/` sub-folder), with a ring of `cropContext`.
/// As each slide tile is analysed: its cells, streamed into cells.csv and the slide's QuPath GeoJSON
/// (`slides/NAME/cells.geojson`), so memory does not grow with the slide; its part of the slide's
/// overlay (`SlideOverlay`: `slides/NAME/overlay.tiff` and the viewer's tiles) and, for a counted tile,
/// its parasitized cells offered to the slide's gallery sample. When the run finishes: each slide's
/// overlay completed, its quality map, report.json, the fields' lines of cells.csv and report.html,
/// then both folders committed (see `OutputFolder`: nothing appears before). Safe to receive fields
/// and tiles from several threads at once.
public final class ReportFolder: AnalysisSink, @unchecked Sendable {
    let folder: OutputFolder
    let crops: OutputFolder?
    /// The ring of context the crops keep (`DetectedObject.crop(from:context:)`).
    let cropContext: Float
    /// Overlay path (relative to the folder) of each input path.
    let overlays: [String: String]
    let settings: AnalysisReport.Settings
    let version: String
    let classified: Bool
    let gallery = ParasitizedGallery()
    /// cells.csv, streamed: each slide's cells as its tiles come, the fields' at the end.
    let cellsFile: OutputFolder.Stream
    /// Each slide's GeoJSON, streamed, with whether a feature was written yet; by slide path.
    private var geojson: [String: (stream: OutputFolder.Stream, started: Bool)] = [:]
    /// Each slide's overlay, by slide path, from its first tile analysed.
    private var slideOverlays: [String: SlideOverlay] = [:]
    private var finished: AnalysisReport?
    private let lock = NSLock()

    /// `paths`: every input of the run, to name the overlays (`overlayFileNames`); `classified`:
    /// whether a classifier runs; `cropContext`: the crops' ring of context (the model's, for crops as
    /// it takes them).
    public init(folder: OutputFolder, crops: OutputFolder? = nil, cropContext: Float = 0, paths: [String], settings: AnalysisReport.Settings,
                version: String, classified: Bool) throws(OutputError) {
        cellsFile = try folder.stream(to: "cells.csv")
        try cellsFile.append(Data((AnalysisReport.csvHeader + "\n").utf8))
        self.folder = folder
        self.crops = crops
        self.cropContext = cropContext
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
        case .tileAnalysed(let tile): try write(tile)
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
            for object in field.segmentation.objects where object.status == .counted || object.status == .leukocyte {
                let name = cellFileName(overlay: overlay, id: object.id)
                try crops.write(Data(encodePNG(object.crop(from: analysed.image, context: cropContext), of: field)),
                                to: object.status == .leukocyte ? "leukocytes/" + name : name)
            }
        }
    }

    /// A slide's tile: its cells into cells.csv (slide coordinates) and the slide's GeoJSON, its part of
    /// the slide's overlay, and its parasitized cells to the gallery.
    func write(_ analysed: AnalysedTile) throws {
        let base = SlideOutputs.folder(of: overlays[analysed.slide]!)
        try writeCells(analysed)
        lock.lock()
        var overlay = slideOverlays[analysed.slide]
        if overlay == nil {
            do {
                overlay = try SlideOverlay(first: analysed, folder: folder, base: base)
            } catch {
                lock.unlock()
                throw error
            }
            slideOverlays[analysed.slide] = overlay
        }
        lock.unlock()
        try overlay!.add(analysed)
        try gallery.add(tile: analysed, key: (base as NSString).lastPathComponent, name: analysed.sample, tiff: base + "/overlay.tiff",
                        overlay: overlays[analysed.slide]!)
    }

    /// A slide tile's cells into cells.csv (slide coordinates) and the slide's GeoJSON.
    func writeCells(_ analysed: AnalysedTile) throws {
        let field = analysed.field, origin = (x: analysed.tile.read.x, y: analysed.tile.read.y)
        var lines = ""
        var features: [String] = []
        for object in field.segmentation.objects {
            let call = field.calls[object.id]
            lines += AnalysisReport.csvLine(AnalysisReport.cell(object, call: call, image: analysed.slide, originX: origin.x, originY: origin.y)) + "\n"
            features.append(SlideOutputs.feature(object, call: call, origin: origin))
        }
        lock.lock(); defer { lock.unlock() }
        try cellsFile.append(Data(lines.utf8))
        guard !features.isEmpty else { return }
        var entry = try geojson[analysed.slide] ?? (folder.stream(to: SlideOutputs.folder(of: overlays[analysed.slide]!) + "/cells.geojson"), false)
        try entry.stream.append(Data(((entry.started ? ",\n" : "{\"type\":\"FeatureCollection\",\"features\":[\n") + features.joined(separator: ",\n")).utf8))
        entry.started = true
        geojson[analysed.slide] = entry
    }

    func finish(_ result: AnalysisResult) throws {
        let drawn = Set(result.fields.map(\.path) + result.failures.compactMap(\.rejected?.path))
        var slideFiles: [String: AnalysisReport.SlideFiles] = [:]
        var viewers: [String: SlideViewer] = [:]
        for slide in result.slides {
            let base = SlideOutputs.folder(of: overlays[slide.path]!)
            let overlay = try slideOverlays[slide.path] ?? SlideOverlay(count: slide, folder: folder, base: base)
            let unreadable = Set(slide.tiles.filter { $0.unfit?.hasPrefix("unreadable") == true }.map(\.tile.index))
            viewers[slide.path] = try overlay.finish(unreadable: unreadable, threads: ProcessInfo.processInfo.activeProcessorCount)
            slideOverlays[slide.path] = nil
            let map = base + "/quality-map.png"
            try folder.write(Data(ImageCodecs.encodePNG(SlideOutputs.qualityMap(slide))), to: map)
            if geojson[slide.path] == nil {   // a slide without a single object
                geojson[slide.path] = (try folder.stream(to: base + "/cells.geojson"), true)
                try geojson[slide.path]!.stream.append(Data("{\"type\":\"FeatureCollection\",\"features\":[\n".utf8))
            }
            try geojson[slide.path]!.stream.append(Data("\n]}\n".utf8))
            try geojson[slide.path]!.stream.close()
            slideFiles[slide.path] = AnalysisReport.SlideFiles(qualityMap: map, geojson: base + "/cells.geojson",
                                                               overlay: base + "/overlay.tiff", viewer: base + "/viewer")
        }
        try gallery.writeSlidePictures(to: folder)
        let report = AnalysisReport(version: version, settings: settings, result: result,
                                    overlays: overlays.filter { drawn.contains($0.key) }, classified: classified, slideFiles: slideFiles)
        try folder.write(report.json(), to: "report.json")
        try cellsFile.append(Data(report.cells.map { AnalysisReport.csvLine($0) + "\n" }.joined().utf8))
        try cellsFile.close()
        try folder.write(Data(HTMLReport(report: report, gallery: gallery.items, viewers: viewers,
                                         slideParasitized: gallery.slideCounts).html().utf8), to: "report.html")
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
