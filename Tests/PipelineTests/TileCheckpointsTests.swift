import Foundation
@testable import Pipeline
import Segmentation
import Testing

/// A tile's analysis kept for --resume reads back as it was; damaged or truncated files are refused.
@Suite struct TileCheckpointsTests {
    static func field(seed: UInt64) -> FieldAnalysis {
        var rng = SplitMix(seed)
        var objects: [DetectedObject] = []
        for id in 1...Int(rng.next() % 20 + 1) {
            let w = Int(rng.next() % 90) + 1, h = Int(rng.next() % 90) + 1
            let bits = (0..<(w * h)).map { _ in UInt8(rng.next() % 3 == 0 ? 0 : 1) }
            objects.append(DetectedObject(id: id, x: Int(rng.next() % 1000), y: Int(rng.next() % 1000),
                                          mask: BinaryImage(width: w, height: h, bits: bits),
                                          status: ObjectStatus.allCases[Int(rng.next() % 4)]))
        }
        var calls: [Int: CellCall] = [:]
        for o in objects where o.status == .counted { calls[o.id] = CellCall(pParasitized: Double(rng.next() % 1000) / 1000, parasitized: rng.next() % 2 == 0) }
        let segmentation = SegmentationResult(width: 1200, height: 1100, objects: objects, cellDiameter: 66.5, diameterEstimated: false,
                                              workingScale: 4, seams: Seams(columns: [300], rows: []), outlineContrast: 3.25,
                                              backgroundTexture: nil, stain: StainRatios(redToGreen: 0.61, blueToGreen: 0.74),
                                              glass: (201.5, 220.25, 210))
        return FieldAnalysis(path: "slide.tiff#tile-3", segmentation: segmentation, calls: calls, seconds: 0.125)
    }

    @Test func anAnalysisReadsBackAsItWas() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            let field = Self.field(seed: seed)
            let back = try #require(TileCheckpoints.decode(TileCheckpoints.encode(field), path: field.path))
            #expect(back.segmentation.objects == field.segmentation.objects)
            #expect(back.calls == field.calls && back.seconds == field.seconds && back.path == field.path)
            let (a, b) = (back.segmentation, field.segmentation)
            #expect(a.width == b.width && a.height == b.height && a.cellDiameter == b.cellDiameter && a.workingScale == b.workingScale)
            #expect(a.seams == b.seams && a.outlineContrast == b.outlineContrast && a.backgroundTexture == b.backgroundTexture && a.stain == b.stain)
            #expect(a.glass == b.glass)
            #expect(back.quality.problem == field.quality.problem)
        }
    }

    @Test func damagedOrTruncatedFilesAreRefused() {
        let bytes = TileCheckpoints.encode(Self.field(seed: 7))
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(TileCheckpoints.decode(Array(bytes[0..<cut]), path: "x") == nil, "cut at \(cut)")
        }
        var wrongMagic = bytes
        wrongMagic[0] ^= 0xFF
        #expect(TileCheckpoints.decode(wrongMagic, path: "x") == nil)
        #expect(TileCheckpoints.decode(bytes + [0], path: "x") == nil)
    }

    @Test func resumingWithOtherSettingsFailsWithOneLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let kept = try TileCheckpoints(folder: folder, resume: false, settings: "model a")
        kept.save(Self.field(seed: 3), tile: 3)
        #expect(try TileCheckpoints(folder: folder, resume: true, settings: "model a").count == 1)
        #expect(throws: PipelineError.self) { try TileCheckpoints(folder: folder, resume: true, settings: "model b") }
        #expect(try TileCheckpoints(folder: folder, resume: false, settings: "model b").count == 0)   // a fresh run starts again
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
