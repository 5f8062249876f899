import Foundation
import Testing

/// Model files with a valid checksum that must not load (issue 9): the bundled model with one weight set
/// to NaN, or with a class name repeated. Every command that takes `--model` stops before its work with
/// one line naming the file, exit status 1, and writes nothing.
@Suite("smear with a poisoned model file")
struct ModelFileValidationTests {
    static let bundled = Fixture.path("Sources/Classifier/Resources/cells.smnet")
    static let cell = "fixtures/cells/Parasitized/C59P20thinF_IMG_20150803_111244_cell_165.png"

    /// CRC-32 (IEEE), as the model file uses.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }

    /// The bundled model changed by `change` (header JSON text, then the bytes after the header), with the
    /// header length and checksum recomputed.
    static func poisoned(_ change: (inout String, inout [UInt8]) -> Void) throws -> [UInt8] {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundled)))
        let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        var header = String(decoding: bytes[16 ..< 16 + length], as: UTF8.self), values = Array(bytes[(16 + length) ..< (bytes.count - 4)])
        change(&header, &values)
        let out = Array(bytes[0 ..< 12]) + littleEndian(UInt32(header.utf8.count)) + Array(header.utf8) + values
        return out + littleEndian(crc32(out))
    }

    /// Each bad model and the message after "Error: PATH: ".
    static let cases: [(name: String, message: String, change: @Sendable (inout String, inout [UInt8]) -> Void)] = [
        ("nan-weight.smnet", "weight 0 of layer 1 (conv 16 3x3 stride 2) is nan", { _, values in values[0] = 0x00; values[1] = 0x7E }),
        ("duplicate-class.smnet", "class name 'Parasitized' appears twice",
         { header, _ in header = header.replacingOccurrences(of: "\"Uninfected\"", with: "\"Parasitized\"") }),
        ("case-duplicate-class.smnet", "class names 'Parasitized' and 'parasitized' are the same ignoring case",
         { header, _ in header = header.replacingOccurrences(of: "\"Uninfected\"", with: "\"parasitized\"") }),
    ]

    @Test("analyze, classify and evaluate: one line naming the model file, exit 1, nothing written",
          arguments: cases.indices)
    func refused(index: Int) throws {
        let (name, message, change) = Self.cases[index]
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let model = folder.appendingPathComponent(name).path
        try Data(try Self.poisoned(change)).write(to: URL(fileURLWithPath: model))
        let expected = ["Error: \(model): \(message)"]

        // A new output folder is not created; an existing one keeps exactly what it had.
        let out = folder.appendingPathComponent("out").path
        let analyze = smear(["analyze", goodField, "--model", model, "--out", out])
        #expect(analyze.status == 1 && analyze.stderrLines == expected, "\(analyze)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let earlier = folder.appendingPathComponent("earlier")
        try FileManager.default.createDirectory(at: earlier, withIntermediateDirectories: true)
        try Data("an earlier report".utf8).write(to: earlier.appendingPathComponent("report.json"))
        let again = smear(["analyze", goodField, "--model", model, "--out", earlier.path])
        #expect(again.status == 1 && again.stderrLines == expected, "\(again)")
        #expect(folderListing(earlier) == ["report.json"])
        #expect(try Data(contentsOf: earlier.appendingPathComponent("report.json")) == Data("an earlier report".utf8))

        let heatmaps = folder.appendingPathComponent("heatmaps").path
        let classify = smear(["classify", Self.cell, "--model", model, "--heatmaps", heatmaps])
        #expect(classify.status == 1 && classify.stderrLines == expected && classify.stdout.isEmpty, "\(classify)")
        #expect(!FileManager.default.fileExists(atPath: heatmaps))

        let evaluate = smear(["evaluate", "fixtures/cells", "--model", model])
        #expect(evaluate.status == 1 && evaluate.stderrLines == expected && evaluate.stdout.isEmpty, "\(evaluate)")
    }

    @Test("evaluate --speed --arch: a network that does not take RGB input is a usage error")
    func nonRGBArchitecture() {
        let run = smear(["evaluate", "--speed", "--arch", "input 8x8x1, conv 4 3x3, gap, dense 2", "--repeats", "1"])
        #expect(run.status == 64 && run.stderrLines.first == "Error: --arch: the network input must have 3 channels (RGB)", "\(run)")
    }

    @Test("the unchanged bundled model, rewritten the same way, still classifies")
    func unchangedModelWorks() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let model = folder.appendingPathComponent("same.smnet").path
        let bytes = try Self.poisoned { _, _ in }
        #expect(bytes == Array(try Data(contentsOf: URL(fileURLWithPath: Self.bundled))))
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        let run = smear(["classify", Self.cell, "--model", model])
        #expect(run.status == 0 && run.stdoutText.hasPrefix("\(Self.cell): "), "\(run)")
    }
}
