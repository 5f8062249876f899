import Testing
@testable import Pipeline
import Segmentation

/// The quality-control rules, each on its own, on hand-made segmentations.
@Suite struct FieldQualityTests {
    /// A disc of diameter `d` in a box of `d × d`.
    static func disc(_ id: Int, x: Int, y: Int, d: Int = 20) -> DetectedObject {
        var bits = [UInt8](repeating: 0, count: d * d)
        let r = Double(d) / 2
        for my in 0..<d {
            for mx in 0..<d where (Double(mx) + 0.5 - r) * (Double(mx) + 0.5 - r) + (Double(my) + 0.5 - r) * (Double(my) + 0.5 - r) <= r * r {
                bits[my * d + mx] = 1
            }
        }
        return DetectedObject(id: id, x: x, y: y, mask: BinaryImage(width: d, height: d, bits: bits), status: .counted)
    }

    /// A plausible 200×200 field of `n` cells of diameter 20, with measures like those of a real smear.
    static func field(_ n: Int = 10, diameter: Double = 20, objects: [DetectedObject]? = nil, contrast: Double = 3,
                      texture: Double = 0.1, stain: StainRatios = StainRatios(redToGreen: 0.4, blueToGreen: 0.6),
                      glass: (red: Float, green: Float, blue: Float) = (200, 220, 210)) -> SegmentationResult {
        SegmentationResult(width: 200, height: 200, objects: objects ?? (0..<n).map { disc($0 + 1, x: 20 * ($0 % 9), y: 30 * ($0 / 9)) },
                           cellDiameter: diameter, diameterEstimated: true, workingScale: 1, outlineContrast: contrast,
                           backgroundTexture: texture, stain: stain, glass: glass)
    }

    static func calls(parasitized: Int, of n: Int) -> [Int: CellCall] {
        Dictionary(uniqueKeysWithValues: (1...n).map { ($0, CellCall(pParasitized: $0 <= parasitized ? 0.9 : 0.1, parasitized: $0 <= parasitized)) })
    }

    func problem(_ s: SegmentationResult, _ calls: [Int: CellCall] = [:]) -> String? { FieldQuality(segmentation: s, calls: calls).problem }

    @Test func aPlausibleFieldPasses() throws {
        let q = FieldQuality(segmentation: Self.field(), calls: Self.calls(parasitized: 1, of: 10))
        #expect(q.problem == nil)
        #expect(abs(try #require(q.sizeAgreement) - 1) < 0.05)
        #expect(abs(try #require(q.roundness) - 1) < 0.1)
        #expect(q.parasitemia == 0.1 && q.cellsCounted == 10)
        #expect(abs(q.coverage - 10 * 314.0 / 40000) < 0.01)
        #expect(q.glassLevel == 200 && q.glassSaturation == 20)
    }

    @Test func eachRuleFailsWithItsReason() {
        let cases: [(SegmentationResult, [Int: CellCall], String)] = [
            (Self.field(0), [:], "no red blood cells counted (is this a thin blood smear field?)"),
            (Self.field(diameter: 90), [:], "implausible cell size: 45% of the image's shorter side (at most 40%)"),
            (Self.field(diameter: 40), [:], "implausible cell size: the cells found are 0.50 times the size the image suggests (0.55–1.30)"),
            (Self.field(diameter: 30, objects: [Self.disc(1, x: 0, y: 0, d: 66)]), [:],
             "implausible cell size: the cells found are 2.20 times the size the image suggests (0.55–1.30)"),
            (Self.field(contrast: 1.2), [:], "no cell outlines, only smooth shading (outline contrast 1.20, at least 1.60): is this a thin blood smear field?"),
            (Self.field(glass: (80, 100, 90)), [:], "the background is too dark to be glass (darkest channel 80 of 255, at least 90)"),
            (Self.field(glass: (220, 150, 100)), [:], "the background is strongly coloured, not glass (saturation 120, at most 60)"),
            (Self.field(stain: StainRatios(redToGreen: 1.0, blueToGreen: 0.98)), [:],
             "the objects are colourless (grey or black), not Giemsa-stained cells (red/green absorbance 1.00, at most 0.85)"),
            (Self.field(stain: StainRatios(redToGreen: 1.6, blueToGreen: 0.5)), [:],
             "the objects are not the colour of Giemsa-stained red cells (red/green absorbance 1.60, at most 0.85)"),
            (Self.field(stain: StainRatios(redToGreen: 0.3, blueToGreen: 1.5)), [:],
             "the objects are not the colour of Giemsa-stained red cells (blue/green absorbance 1.50, at most 1.30)"),
            (Self.field(texture: 0.8), [:], "the space between the objects is textured, not glass (texture 0.80, at most 0.60)"),
            (Self.field(10), Self.calls(parasitized: 7, of: 10), "parasitemia 70.0% of 10 cells is beyond what microscopy reports (at most 50%)"),
        ]
        for (segmentation, calls, expected) in cases {
            #expect(problem(segmentation, calls) == expected)
        }
    }

    @Test func coverageAndRoundness() {
        // 25 squares of 38 px: 90.25% of the image, each a box the size of the cell.
        let squares = (0..<25).map { i in
            DetectedObject(id: i + 1, x: 40 * (i % 5), y: 40 * (i / 5), mask: BinaryImage(width: 38, height: 38, bits: [UInt8](repeating: 1, count: 38 * 38)), status: .counted)
        }
        #expect(problem(Self.field(diameter: 42, objects: squares)) == "objects cover 90% of the image (a thin smear shows glass between its cells; at most 90%)")
        // Rings (hollow discs) are not round like cells; two of them are too few to judge.
        func ring(_ id: Int, x: Int) -> DetectedObject {
            var o = Self.disc(id, x: x, y: 100, d: 30)
            var bits = o.mask.bits
            for my in 0..<30 { for mx in 0..<30 where (mx - 15) * (mx - 15) + (my - 15) * (my - 15) < 144 { bits[my * 30 + mx] = 0 } }
            o = DetectedObject(id: id, x: x, y: 100, mask: BinaryImage(width: 30, height: 30, bits: bits), status: .counted)
            return o
        }
        #expect(problem(Self.field(diameter: 20, objects: (0..<4).map { ring($0 + 1, x: 40 * $0) }))?.hasPrefix("the objects are not round like red cells (roundness 0.") == true)
        #expect(problem(Self.field(diameter: 20, objects: (0..<2).map { ring($0 + 1, x: 40 * $0) })) == nil)
    }

    @Test func aFieldAtTheParasitemiaLimitPasses() {
        #expect(problem(Self.field(10), Self.calls(parasitized: 5, of: 10)) == nil)
        #expect(problem(Self.field(8), Self.calls(parasitized: 7, of: 8)) == "parasitemia 87.5% of 8 cells is beyond what microscopy reports (at most 50%)")
    }
}
