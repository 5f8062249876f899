import Foundation
import ImageCodecs
import Testing
@testable import Segmentation

/// Stitching seams: found where two fields meet, nowhere else; cells they cut are border cells.
@Suite struct SeamsTests {
    /// A `width × height` image of grey `level(x, y)` plus seeded noise of ±`noise` levels.
    static func image(width: Int, height: Int, noise: Int, seed: UInt64, level: (Int, Int) -> Int) -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let v = UInt8(max(0, min(255, level(x, y) + Int.random(in: -noise...noise, using: &rng))))
                image[x, y] = (v, v, v)
            }
        }
        return image
    }

    @Test func twoFieldsSideBySideAndAboveEachOtherMeetAtSeams() {
        // Four "fields" of different brightness and texture, 40×30 each.
        let mosaic = Self.image(width: 80, height: 60, noise: 2, seed: 1) { x, y in
            [[120, 190], [160, 90]][y / 30][x / 40]
        }
        #expect(Seams(in: mosaic) == Seams(columns: [40], rows: [30]))
    }

    @Test func aNoisyOrOrdinaryImageHasNone() {
        #expect(Seams(in: Self.image(width: 64, height: 48, noise: 120, seed: 2) { _, _ in 128 }).isEmpty)
        #expect(Seams(in: Self.image(width: 64, height: 48, noise: 3, seed: 3) { x, y in 100 + x + y }).isEmpty)
        // A scale bar: a short, very dark line on even glass is a strong edge, but over a tenth of the row only.
        let bar = Self.image(width: 200, height: 60, noise: 2, seed: 4) { x, y in (150..<170).contains(x) && (40..<43).contains(y) ? 10 : 210 }
        #expect(Seams(in: bar).isEmpty)
    }

    @Test func anObjectIsCutWhenItsMaskReachesASeam() {
        let seams = Seams(columns: [50], rows: [])
        func object(x: Int, width: Int) -> DetectedObject {
            DetectedObject(id: 1, x: x, y: 10, mask: BinaryImage(width: width, height: 5, bits: [UInt8](repeating: 1, count: width * 5)), status: .counted)
        }
        #expect(seams.cut(object(x: 45, width: 10), reach: 1))    // spans 45…54
        #expect(seams.cut(object(x: 40, width: 10), reach: 1))    // ends at 49, beside the seam
        #expect(!seams.cut(object(x: 38, width: 10), reach: 1))   // ends at 47
        #expect(seams.cut(object(x: 38, width: 10), reach: 3))
        #expect(!seams.cut(object(x: 52, width: 10), reach: 1))   // starts at 52
    }

    /// Two real IML fields tiled 2 × 2 into a 2560×1920 frame: the cell size is estimated on regions
    /// (not on the whole frame shrunk 8×), and the frame counts like the sum of its four parts.
    @Test func aMosaicOfRealFieldsCountsLikeItsParts() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let parts = try ["PA171690.JPG", "PA171834.JPG"].map {
            try ImageCodecs.read(path: root.appendingPathComponent("fixtures/fields/iml-malaria/images/\($0)").path)
        }
        var mosaic = RGBImage(width: 2560, height: 1920)
        for (i, part) in [parts[0], parts[1], parts[1], parts[0]].enumerated() {
            let x0 = (i % 2) * 1280, y0 = (i / 2) * 960
            for y in 0..<960 { for x in 0..<1280 { mosaic[x0 + x, y0 + y] = part[x, y] } }
        }
        let segmenter = CellSegmenter()
        let counts = try parts.map { try segmenter.segment($0) }
        let whole = try segmenter.segment(mosaic)
        #expect(whole.seams == Seams(columns: [1280], rows: [960]))
        let partDiameters = counts.map(\.cellDiameter)
        #expect(abs(whole.cellDiameter / (partDiameters.reduce(0, +) / 2) - 1) < 0.1, "\(whole.cellDiameter) vs \(partDiameters)")
        // Segmented field by field, the mosaic counts exactly what its parts count with its one cell
        // size; with each part's own size (60 and 67 px against 65.6) within 7%.
        let same = CellSegmenter(parameters: SegmentationParameters(cellDiameter: whole.cellDiameter))
        let sameCounts = try parts.map { try same.segment($0).count(.counted) }
        #expect(whole.count(.counted) == 2 * (sameCounts[0] + sameCounts[1]), "\(whole.count(.counted)) cells in the mosaic, 2 × \(sameCounts) in its parts")
        let sumOfParts = 2 * (counts[0].count(.counted) + counts[1].count(.counted))
        let ratio = Double(whole.count(.counted)) / Double(sumOfParts)
        #expect(abs(ratio - 1) < 0.07, "\(whole.count(.counted)) cells in the mosaic, \(sumOfParts) in its parts with their own cell sizes")
    }
}
