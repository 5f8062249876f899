import Foundation
import ImageCodecs
import Testing
@testable import Segmentation

/// The segmenter's rules on synthetic fields: pink-grey cells with a pale centre on light glass,
/// drawn with soft edges like a photograph.
@Suite struct CellSegmenterTests {
    static let glass: (Double, Double, Double) = (205, 220, 210)
    static let cell: (Double, Double, Double) = (165, 120, 140)
    static let nucleus: (Double, Double, Double) = (95, 40, 130)

    /// A field with the given discs (centre x, y, radius, colour), later discs painted over earlier
    /// ones, each with a 1.5-px soft edge; cells get a paler centre (pallor).
    static func field(width: Int = 480, height: Int = 360,
                      discs: [(x: Double, y: Double, r: Double, colour: (Double, Double, Double), pallor: Bool)]) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        var seed: UInt64 = 12345
        for y in 0..<height {
            for x in 0..<width {
                var c = glass
                for d in discs {
                    let dist = ((Double(x) - d.x) * (Double(x) - d.x) + (Double(y) - d.y) * (Double(y) - d.y)).squareRoot()
                    let alpha = max(0, min(1, (d.r - dist) / 1.5 + 0.5))
                    guard alpha > 0 else { continue }
                    var colour = d.colour
                    if d.pallor {
                        let pale = max(0, 1 - dist / (0.45 * d.r)) * 0.5
                        colour = (colour.0 + (glass.0 - colour.0) * pale, colour.1 + (glass.1 - colour.1) * pale,
                                  colour.2 + (glass.2 - colour.2) * pale)
                    }
                    c = (c.0 + (colour.0 - c.0) * alpha, c.1 + (colour.1 - c.1) * alpha, c.2 + (colour.2 - c.2) * alpha)
                }
                // A little sensor noise, deterministic.
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let noise = Double(Int(seed >> 61)) - 3.5
                image[x, y] = (UInt8(max(0, min(255, c.0 + noise))), UInt8(max(0, min(255, c.1 + noise))),
                               UInt8(max(0, min(255, c.2 + noise))))
            }
        }
        return image
    }

    /// A 6 × 4 grid of separate cells of radius 18 with a margin from the border.
    static func grid() -> [(x: Double, y: Double, r: Double, colour: (Double, Double, Double), pallor: Bool)] {
        var discs: [(x: Double, y: Double, r: Double, colour: (Double, Double, Double), pallor: Bool)] = []
        for j in 0..<4 { for i in 0..<6 { discs.append((60 + Double(i) * 72, 60 + Double(j) * 78, 18, cell, true)) } }
        return discs
    }

    @Test func findsSeparateCellsAndEstimatesTheirSize() throws {
        let result = try CellSegmenter().segment(Self.field(discs: Self.grid()))
        #expect(result.count(.counted) == 24)
        #expect(result.objects.count == 24)
        #expect(result.diameterEstimated)
        #expect(abs(result.cellDiameter - 36) < 6, "estimated diameter \(result.cellDiameter)")
        for object in result.objects where object.status == .counted {
            // Each mask is about the disc's area (π·18² ≈ 1,018 px).
            #expect(object.area > 800 && object.area < 1300, "area \(object.area)")
        }
        // Ids in reading order, 1…n.
        #expect(result.objects.map(\.id) == Array(1...24))
        #expect(result.objects.first!.centroidY < result.objects.last!.centroidY)
    }

    @Test func cellsTouchingTheBorderAreMarkedNotCounted() throws {
        var discs = Self.grid()
        discs.append((4, 180, 18, Self.cell, true))       // cut by the left edge
        discs.append((300, 356, 18, Self.cell, true))     // cut by the bottom edge
        let result = try CellSegmenter().segment(Self.field(discs: discs))
        #expect(result.count(.counted) == 24)
        #expect(result.count(.border) == 2)
        for object in result.objects where object.status == .border {
            #expect(object.x == 0 || object.y + object.height == 360)
        }
    }

    @Test func touchingAndOverlappingCellsAreSplit() throws {
        var discs = Self.grid()
        // Replace two grid cells by a pair overlapping by a fifth of a diameter, and a chain of three.
        discs.removeAll { $0.y == 294 }
        discs += [(100, 294, 18, Self.cell, true), (129, 294, 18, Self.cell, true),
                  (250, 294, 18, Self.cell, true), (284, 294, 18, Self.cell, true), (318, 294, 18, Self.cell, true)]
        let result = try CellSegmenter().segment(Self.field(discs: discs))
        #expect(result.count(.counted) == 18 + 5)
    }

    @Test func aLargeCellWithADarkPurpleNucleusIsALeukocyte() throws {
        var discs = Self.grid()
        discs.removeAll { abs($0.x - 204) < 1 && abs($0.y - 138) < 1 }
        discs.removeAll { abs($0.x - 276) < 1 && abs($0.y - 138) < 1 }
        discs.append((240, 140, 30, (190, 170, 200), false))     // pale cytoplasm
        discs.append((232, 136, 15, Self.nucleus, false))         // lobed nucleus
        discs.append((250, 148, 11, Self.nucleus, false))
        let result = try CellSegmenter().segment(Self.field(discs: discs))
        #expect(result.count(.leukocyte) == 1)
        #expect(result.count(.counted) == 22)
        let leukocyte = try #require(result.objects.first { $0.status == .leukocyte })
        #expect(abs(leukocyte.centroidX - 240) < 10 && abs(leukocyte.centroidY - 140) < 10)
    }

    @Test func aSmallParasiteDotDoesNotMakeALeukocyte() throws {
        var discs = Self.grid()
        discs.append((132, 138, 3, Self.nucleus, false))   // a chromatin dot inside a red cell
        let result = try CellSegmenter().segment(Self.field(discs: discs))
        #expect(result.count(.leukocyte) == 0)
        #expect(result.count(.counted) == 24)
    }

    @Test func specksAreDebrisNotCells() throws {
        var discs = Self.grid()
        discs.append((96, 100, 5, Self.cell, false))   // a platelet-sized speck between cells
        let result = try CellSegmenter().segment(Self.field(discs: discs))
        #expect(result.count(.counted) == 24)
        #expect(result.count(.debris) <= 1)
    }

    @Test func aGivenDiameterIsUsed() throws {
        let result = try CellSegmenter(parameters: SegmentationParameters(cellDiameter: 36)).segment(Self.field(discs: Self.grid()))
        #expect(!result.diameterEstimated)
        #expect(result.cellDiameter == 36)
        #expect(result.count(.counted) == 24)
    }

    /// A given foreground threshold replaces Otsu's: the segmenter's own threshold gives the same
    /// objects as none given, a much higher one shrinks every mask.
    @Test func aGivenForegroundThresholdIsUsed() throws {
        let field = Self.field(discs: Self.grid())
        let own = CellSegmenter(parameters: SegmentationParameters(cellDiameter: 36))
        let level = own.foregroundThreshold(of: field, diameter: 36)
        #expect(level > 0.04 && level < 1)
        let plain = try own.segment(field)
        let same = try CellSegmenter(parameters: SegmentationParameters(cellDiameter: 36, foregroundThreshold: level)).segment(field)
        #expect(same.objects.map(\.area) == plain.objects.map(\.area))
        let high = try CellSegmenter(parameters: SegmentationParameters(cellDiameter: 36, foregroundThreshold: 0.9)).segment(field)
        #expect(high.objects.reduce(0) { $0 + $1.area } < plain.objects.reduce(0) { $0 + $1.area })
    }

    /// Two fields stitched side by side, one lit 40 levels darker with paler cells: the mosaic is
    /// segmented field by field, so it gives exactly the objects of each field segmented alone.
    @Test func aMosaicIsSegmentedFieldByField() throws {
        let a = Self.field(discs: Self.grid())
        var b = Self.field(discs: Self.grid().map { ($0.x, $0.y, $0.r, (190, 165, 175), $0.pallor) })
        for i in b.pixels.indices { b.pixels[i] = b.pixels[i] > 40 ? b.pixels[i] - 40 : 0 }
        var mosaic = RGBImage(width: 960, height: 360)
        for y in 0..<360 {
            for x in 0..<480 { mosaic[x, y] = a[x, y]; mosaic[480 + x, y] = b[x, y] }
        }
        #expect(Seams(in: mosaic) == Seams(columns: [480], rows: []))
        let segmenter = CellSegmenter(parameters: SegmentationParameters(cellDiameter: 36))
        func boxes(_ objects: [DetectedObject], dx: Int = 0) -> [[Int]] {
            objects.map { [$0.x + dx, $0.y, $0.area, $0.status == .counted ? 1 : 0] }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let alone = try boxes(segmenter.segment(a).objects) + boxes(segmenter.segment(b).objects, dx: 480)
        let together = try segmenter.segment(mosaic)
        #expect(boxes(together.objects) == alone.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(together.count(.counted) == 48)
        #expect(together.objects.map(\.id) == Array(1...together.objects.count))
    }

    /// Background blocks: 1/8 of the shorter side, at most two diameters, at least 8 px.
    @Test func backgroundBlocksAreBoundedByTheCellSize() {
        #expect(Absorbance.blockSide(width: 427, height: 320, cellDiameter: nil) == 40)
        #expect(Absorbance.blockSide(width: 427, height: 320, cellDiameter: 26) == 40)
        #expect(Absorbance.blockSide(width: 1920, height: 1440, cellDiameter: 20) == 40)
        #expect(Absorbance.blockSide(width: 40, height: 30, cellDiameter: 20) == 8)
    }

    /// (A shaded image can be segmented; its measures fail quality control: PipelineTests.)
    @Test func blankOrTinyImagesCannotBeSegmented() throws {
        let blank = RGBImage(width: 320, height: 240, fill: (200, 200, 200))
        #expect(throws: SegmentationError.self) { try CellSegmenter().segment(blank) }
        #expect(throws: SegmentationError.self) { try CellSegmenter().segment(RGBImage(width: 8, height: 8)) }
    }

    @Test func measuresTellCellsFromShading() throws {
        let cells = try CellSegmenter().segment(Self.field(discs: [(100, 100, 24, Self.cell, true), (200, 120, 24, Self.cell, true),
                                                                   (300, 200, 24, Self.cell, true), (150, 250, 24, Self.cell, true)]))
        #expect(cells.count(.counted) == 4)
        #expect(try #require(cells.outlineContrast) > 2)
        #expect(try #require(cells.backgroundTexture) < 0.3)
        // Pink-grey cells absorb green most: red/green well under 1.
        let stain = try #require(cells.stain)
        #expect(stain.redToGreen < 0.8 && stain.blueToGreen < 1.2, "\(stain)")
        #expect(cells.glass.green > 200 && abs(cells.glass.red - 205) < 5)
        var ramp = RGBImage(width: 640, height: 480)
        for y in 0..<480 { for x in 0..<640 { let v = UInt8(x * 255 / 639); ramp[x, y] = (v, v, v) } }
        if let shading = try? CellSegmenter().segment(ramp), let contrast = shading.outlineContrast {
            #expect(contrast < 1.6)
        }
    }

    @Test func aRealFieldIsCountedNearItsAnnotation() throws {
        // fixtures/fields/iml-malaria/images/PA171834.JPG: 123 interior cells boxed by the experts.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let image = try ImageCodecs.read(path: root.appendingPathComponent("fixtures/fields/iml-malaria/images/PA171834.JPG").path)
        let result = try CellSegmenter().segment(image)
        #expect(result.count(.counted) >= 110 && result.count(.counted) <= 140, "\(result.count(.counted)) counted")
        #expect(result.cellDiameter > 55 && result.cellDiameter < 85)
    }
}
