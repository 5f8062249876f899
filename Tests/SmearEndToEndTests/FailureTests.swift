import Foundation
import ImageCodecs
import Testing

/// A small real field that analyses in well under a second.
let goodField = Fixture.images("bccd") + "/BloodImage_00006.jpg"

/// Writes a PNG holding only a header that claims `width`×`height` (valid chunk CRCs, a little pixel data).
func writeHugePNG(to path: String, width: UInt32, height: UInt32) throws {
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }
    // A stored (uncompressed) zlib stream of 16 zero bytes.
    let zlib: [UInt8] = [0x78, 0x01, 0x01, 0x10, 0x00, 0xEF, 0xFF] + [UInt8](repeating: 0, count: 16) + [0x00, 0x10, 0x00, 0x01]
    let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        + chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        + chunk("IDAT", zlib) + chunk("IEND", [])
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writePNG(_ image: RGBImage, to path: String) throws {
    try Data(ImageCodecs.encodePNG(image)).write(to: URL(fileURLWithPath: path))
}

@Suite("smear analyze: bad input")
struct FailureTests {
    /// Damaged and non-image files (fixtures/corrupt) and a word their message must contain.
    static let corrupt: [(String, String)] = [
        ("truncated.jpg", "truncated"),
        ("truncated-in-exif.jpg", "truncated"),
        ("header-only.png", "truncated"),
        ("bad-crc.png", "PNG"),
        ("not-an-image.png", "not a PNG, JPEG or TIFF image"),
        ("empty.tif", "empty file"),
    ]

    @Test("a damaged or non-image file: one error line naming it, exit 1, the failure in report.json",
          arguments: corrupt)
    func corruptFile(name: String, word: String) throws {
        let path = "fixtures/corrupt/" + name
        let result = OutputRun(["analyze", path])
        #expect(result.run.status == 1, "\(result.run)")
        let lines = result.run.stderrLines
        try #require(lines.count == 3, "\(result.run.stderr)")
        #expect(lines[0].hasPrefix("smear: \(name): ") && lines[0].contains(word), "\(lines[0])")
        #expect(Array(lines[1...]) == ["0 red cells counted in 0 fields", "results in \(result.out)"])
        let report = try Report.decode(result.files["report.json"])
        #expect(report.images.isEmpty && report.cells.isEmpty)
        #expect(report.failures == [Report.Failure(file: path, error: String(lines[0].dropFirst("smear: ".count)))])
        #expect(report.totals.images == 1 && report.totals.failed == 1 && report.totals.cellsCounted == 0)
        #expect(result.listing == [".smear-files", ".smear-lock", "cells.csv", "report.html", "report.json"])
    }

    @Test("good and bad files together: the good ones are analysed, the bad ones listed, exit 1")
    func mixed() throws {
        let inputs = ["fixtures/corrupt/truncated.jpg", goodField, "fixtures/corrupt/not-an-image.png", "fixtures/corrupt/empty.tif"]
        let result = OutputRun(["analyze"] + inputs)
        #expect(result.run.status == 1, "\(result.run)")
        let report = try Report.decode(result.files["report.json"])
        #expect(report.images.map(\.file) == [goodField])
        #expect(report.failures.map(\.file) == [inputs[0], inputs[2], inputs[3]])
        #expect(report.totals.images == 4 && report.totals.failed == 3)
        #expect(report.totals.cellsCounted == report.images[0].cellsCounted && report.totals.cellsCounted > 0)
        #expect(Set(report.cells.map(\.image)) == [goodField])
        #expect(result.listing == expectedListing(report))
        let errors = result.run.stderrLines.filter { $0.hasPrefix("smear: ") }
        #expect(errors == report.failures.map { "smear: " + $0.error })
        #expect(result.run.stderrLines.filter { $0.hasPrefix("[") }.count == 4, "one progress line per input")
        #expect(Array(result.run.stderrLines.suffix(2)) == batchSummary(report, fields: 1, out: result.out))
    }

    @Test("images that are not smear fields: a clear error, exit 1")
    func notASmear() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let grey = folder.appendingPathComponent("grey.png").path
        try writePNG(RGBImage(width: 640, height: 480, fill: (128, 128, 128)), to: grey)
        let white = folder.appendingPathComponent("white.png").path
        try writePNG(RGBImage(width: 640, height: 480, fill: (255, 255, 255)), to: white)
        let tiny = folder.appendingPathComponent("tiny.png").path
        try writePNG(RGBImage(width: 8, height: 8, fill: (200, 120, 140)), to: tiny)
        for (path, words) in [(grey, "thin blood smear"), (white, "thin blood smear"), (tiny, "too small")] {
            let name = (path as NSString).lastPathComponent
            let out = folder.appendingPathComponent("out-" + name).path
            let run = smear(["analyze", path, "--out", out])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderrLines.first.map { $0.hasPrefix("smear: \(name): ") && $0.contains(words) } == true, "\(run)")
        }
    }

    @Test("a file name with a line break and an escape sequence still gives one plain error line")
    func controlCharactersInNames() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let name = "bad\nname\u{1B}[31m.png"
        let path = folder.appendingPathComponent(name).path
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: path))
        let run = smear(["analyze", path, goodField, "--out", folder.appendingPathComponent("out").path])
        #expect(run.status == 1, "\(run)")
        let errors = run.stderrLines.filter { $0.hasPrefix("smear: ") }
        #expect(errors == ["smear: bad?name?[31m.png: not a PNG, JPEG or TIFF image"], "\(run)")
        #expect(!run.stderr.contains("\u{1B}"))
    }

    @Test("a smooth gradient is not a smear field")
    func gradient() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        var image = RGBImage(width: 640, height: 480)
        for y in 0..<480 { for x in 0..<640 { let v = UInt8(x * 255 / 639); image[x, y] = (v, v, v) } }
        let path = folder.appendingPathComponent("gradient.png").path
        try writePNG(image, to: path)
        let run = smear(["analyze", path, "--out", folder.appendingPathComponent("out").path])
        do {
            #expect(run.status == 1, "\(run)")
            #expect(run.stderrLines.first?.hasPrefix("smear: gradient.png: ") == true, "\(run)")
        }
    }

    @Test("huge dimensions are refused before decoding")
    func hugeDimensions() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let path = folder.appendingPathComponent("huge.png").path
        try writeHugePNG(to: path, width: 100_000, height: 100_000)
        let run = smear(["analyze", path, "--out", folder.appendingPathComponent("out").path])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.first == "smear: huge.png: dimensions 100000×100000 exceed the 100-megapixel limit", "\(run)")
    }

    @Test("a missing path, an empty folder or a folder without images stops the run before it starts")
    func nothingToAnalyse() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let empty = folder.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let cases: [(String, String)] = [
            (folder.appendingPathComponent("no-such.jpg").path, "no such file or folder"),
            (empty, "no PNG, JPEG, TIFF or slide images in this folder"),
            // Holds cells.csv and images/, but no image directly.
            (Fixture.fields + "/bccd", "no PNG, JPEG, TIFF or slide images in this folder"),
        ]
        for (input, message) in cases {
            let out = folder.appendingPathComponent("out").path
            let run = smear(["analyze", goodField, input, "--out", out])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderrLines == ["Error: \(input): \(message)"], "\(run)")
            #expect(!FileManager.default.fileExists(atPath: out), "an output folder was created")
        }
    }

    @Test("--out naming an existing file: a clear error, the file untouched")
    func outIsAFile() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let file = folder.appendingPathComponent("results").path
        try "keep me\n".write(toFile: file, atomically: true, encoding: .utf8)
        let run = smear(["analyze", goodField, "--out", file])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines == ["Error: \(file): exists and is not a folder"], "\(run)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me\n")
        #expect(folderListing(folder) == ["results"])
    }

    @Test("an output folder keeps its older complete files when a run cannot start, and a crashed run's staging folder is cleaned up")
    func olderReportSurvives() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("overlays"), withIntermediateDirectories: true)
        try Data("{\"old\": true}\n".utf8).write(to: out.appendingPathComponent("report.json"))
        try Data("old\n".utf8).write(to: out.appendingPathComponent("cells.csv"))
        try Data("old png".utf8).write(to: out.appendingPathComponent("overlays/old.png"))
        let before = contents(out)

        let failedStarts: [([String], Int32)] = [
            (["analyze", folder.appendingPathComponent("missing.jpg").path], 1),
            (["analyze", goodField, "--threads", "0"], 64),
            (["analyze", goodField, "--cell-diameter", "1"], 64),
            (["analyze"], 64),
        ]
        for (arguments, status) in failedStarts {
            let run = smear(arguments + ["--out", out.path])
            #expect(run.status == status, "\(run)")
            #expect(run.stderrLines.first?.hasPrefix("Error: ") == true, "\(run)")
            #expect(contents(out) == before, "\(arguments) changed the output folder")
        }

        // A run that died mid-way left its staging folder; the next complete run removes it and
        // replaces the report.
        try FileManager.default.createDirectory(at: out.appendingPathComponent(".smear-staging-99999"), withIntermediateDirectories: true)
        try Data("half".utf8).write(to: out.appendingPathComponent(".smear-staging-99999/report.json"))
        let run = smear(["analyze", goodField, "--out", out.path])
        #expect(run.status == 0, "\(run)")
        // (Overlays of earlier runs are left alone: overlays/old.png may stay.)
        let report = try Report.decode(try? Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(folderListing(out).filter { $0 != "overlays/old.png" } == expectedListing(report))
        #expect(report.images.map(\.file) == [goodField])
    }
}
