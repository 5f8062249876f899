import Foundation
import ImageCodecs
import Pipeline
import Segmentation
import Testing
@testable import Reports

/// report.html's structure, from a report built by hand: every section, balanced markup, links to
/// files that exist, nothing fetched from the network, text escaped.
@Suite struct HTMLReportTests {
    static func field(_ path: String, counted: Int, parasitized: Int) -> FieldAnalysis {
        let objects = (0..<counted).map { i in
            DetectedObject(id: i + 1, x: 10 * i, y: 5, mask: BinaryImage(width: 8, height: 8, bits: [UInt8](repeating: 1, count: 64)),
                           status: .counted)
        } + [DetectedObject(id: counted + 1, x: 0, y: 0, mask: BinaryImage(width: 4, height: 4, bits: [UInt8](repeating: 1, count: 16)),
                            status: .border)]
        var calls: [Int: CellCall] = [:]
        for i in 0..<counted { calls[i + 1] = CellCall(pParasitized: i < parasitized ? 0.9 : 0.1, parasitized: i < parasitized) }
        let segmentation = SegmentationResult(width: 640, height: 480, objects: objects, cellDiameter: 40,
                                              diameterEstimated: true, workingScale: 2)
        return FieldAnalysis(path: path, segmentation: segmentation, calls: calls, seconds: 0.05)
    }

    static func html(samples: [SampleCount], gallery: [ParasitizedGallery.Item]) -> String {
        let overlays = Dictionary(uniqueKeysWithValues: samples.flatMap(\.fields).map {
            ($0.path, "overlays/" + (($0.name as NSString).deletingPathExtension) + ".png")
        })
        let report = AnalysisReport(version: "test", settings: .init(model: "m", threshold: 0.5, cellDiameter: nil, targetCells: 5000,
                                                                      redCellsPerMicrolitre: 5e6),
                                    result: AnalysisResult(samples: samples, failures: [FieldFailure(path: "bad<1>.jpg", message: "truncated & broken")]),
                                    overlays: overlays, classified: true)
        return HTMLReport(report: report, gallery: gallery).html()
    }

    /// Every opening tag of `name` has a closing one, in order.
    static func balanced(_ html: String, _ name: String) -> Bool {
        var depth = 0
        var rest = Substring(html)
        while let open = rest.range(of: "<\(name)[ >]|</\(name)>", options: .regularExpression) {
            depth += rest[open].hasPrefix("</") ? -1 : 1
            if depth < 0 { return false }
            rest = rest[open.upperBound...]
        }
        return depth == 0
    }

    @Test func aSampleReportHasEverySectionAndBalancedMarkup() throws {
        let sample = SampleCount(name: "PATIENT-042", fields: [Self.field("in/a.jpg", counted: 50, parasitized: 2),
                                                               Self.field("in/b.jpg", counted: 30, parasitized: 0)],
                                 fieldsAvailable: 5, targetCells: 5000, redCellsPerMicrolitre: 5e6)
        let gallery = [ParasitizedGallery.Item(field: "a.jpg", overlay: "overlays/a.png", id: 1, pParasitized: 0.9,
                                               centroidX: 3, centroidY: 8, picture: "cells/a_cell_1.png"),
                       ParasitizedGallery.Item(field: "a.jpg", overlay: "overlays/a.png", id: 2, pParasitized: 0.9,
                                               centroidX: 13, centroidY: 8, picture: "cells/a_cell_2.png")]
        let html = Self.html(samples: [sample], gallery: gallery)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for id in ["summary", "fields", "parasitized", "failures", "settings"] { #expect(html.contains("id=\"\(id)\""), "\(id)") }
        for tag in ["html", "head", "body", "table", "tr", "td", "a", "figure", "div", "style", "h1", "h2", "p"] {
            #expect(Self.balanced(html, tag), "unbalanced <\(tag)>")
        }
        // The sample's figures: 2 of 80 cells = 2.50%, Wilson 95% interval, target not reached.
        #expect(html.contains("PATIENT-042"))
        #expect(html.contains("2.50%"))
        let ci = try #require(wilsonInterval(successes: 2, trials: 80))
        #expect(html.contains(String(format: "%.2f–%.2f%%", 100 * ci.lower, 100 * ci.upper)))
        #expect(html.contains("target 5000 not reached"))
        // Thumbnails open the full overlay; gallery pictures link to their field's overlay.
        #expect(html.contains("<a href=\"overlays/a.png\"><img class=\"thumb\" src=\"overlays/a.png\""))
        #expect(html.contains("<a href=\"overlays/a.png\"><img src=\"cells/a_cell_2.png\""))
        #expect(html.components(separatedBy: "<figure class=\"cell\">").count - 1 == 2)
        // Self-contained: nothing from the network, no scripts.
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"))
        // Text from files is escaped.
        #expect(html.contains("bad&lt;1&gt;.jpg") && html.contains("truncated &amp; broken"))
    }

    @Test func aBatchWithoutParasitizedCellsSaysSo() {
        let html = Self.html(samples: [SampleCount(name: "", fields: [Self.field("x.png", counted: 10, parasitized: 0)],
                                                   fieldsAvailable: 1, targetCells: nil, redCellsPerMicrolitre: 5e6)], gallery: [])
        #expect(html.contains("No cell was called parasitized."))
        #expect(html.contains("analysed as a batch"))
    }
}
