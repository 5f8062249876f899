import Foundation
import ImageCodecs
import Testing

/// Images that are not thin-smear fields fail quality control: one line each, not counted, listed
/// in report.json with the reason, the measures and an overlay that says why.
@Suite("smear analyze: quality control")
struct QualityControlTests {
    /// The fixtures in fixtures/not-smears and the starts of the reasons each may give (text: its lines
    /// of letters also cut the glyphs into "border" objects, leaving none counted).
    static let notSmears: [(String, [String])] = [
        ("text.png", ["no red blood cells counted", "the objects are not the colour of Giemsa-stained red cells"]),
        ("photo.jpg", ["the objects are colourless (grey or black)"]),
        ("wrong-stain.jpg", ["the objects are not the colour of Giemsa-stained red cells (red/green absorbance"]),
    ]

    @Test("text, a photograph and a wrongly stained smear are refused beside a real field, which is counted")
    func notSmearsAreRefused() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("out")
        let inputs = Self.notSmears.map { "fixtures/not-smears/\($0.0)" } + [goodField]
        let run = smear(["analyze"] + inputs + ["--out", out.path])
        #expect(run.status == 1, "\(run)")
        let errors = run.stderrLines.filter { $0.hasPrefix("smear: ") }
        #expect(errors.count == Self.notSmears.count, "\(run)")
        for ((name, reasons), line) in zip(Self.notSmears, errors) {
            #expect(reasons.contains { line.hasPrefix("smear: \(name): failed quality control: \($0)") }, "\(line)")
        }
        let report = try Report.decode(try? Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.images.map(\.file) == [goodField])
        #expect(report.failures.map(\.file) == Array(inputs.dropLast()))
        #expect(report.totals.cellsCounted == report.images[0].cellsCounted)
        // Each refused field has its measures and an overlay saying it was not counted.
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        for failure in try #require(json["failures"] as? [[String: Any]]) {
            let quality = try #require(failure["quality"] as? [String: Any])
            #expect(quality["passed"] as? Bool == false)
            #expect((failure["error"] as? String)?.hasSuffix(quality["problem"] as? String ?? "?") == true)
            let overlay = try #require(failure["overlay"] as? String)
            let picture = try ImageCodecs.read(path: out.appendingPathComponent(overlay).path)
            #expect(picture.height > 480)
        }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("failed quality control"))
    }

    @Test("a smooth gradient of any colour has no cell outlines")
    func gradients() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        var pink = RGBImage(width: 800, height: 600)
        for y in 0..<600 {
            for x in 0..<800 {
                let t = Double(x + y) / 1400
                pink[x, y] = (UInt8(235 - 40 * t), UInt8(205 - 70 * t), UInt8(220 - 30 * t))
            }
        }
        let path = folder.appendingPathComponent("pink.png").path
        try Data(ImageCodecs.encodePNG(pink)).write(to: URL(fileURLWithPath: path))
        let run = smear(["analyze", path, "--out", folder.appendingPathComponent("out").path])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.first?.hasPrefix("smear: pink.png: ") == true, "\(run)")
        #expect(run.stderrLines.first?.contains("no cell outlines") == true || run.stderrLines.first?.contains("no red blood cells") == true, "\(run)")
    }
}
