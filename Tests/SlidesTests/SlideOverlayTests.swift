import CTIFF
import Foundation
import ImageCodecs
@testable import Slides
import Testing

/// `smear analyze` on a slide built by `smear-bench make-slide` (2 × 2 IML fixture fields): the overlay
/// TIFF read back with `Slide` against the slide, and the report's viewer, its tiles and its links.
@Suite("the overlay and viewer of a slide", .serialized)
struct SlideOverlayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `name` (smear, smear-bench) built beside this test binary.
    static func executable(_ name: String) throws -> String {
        var folders = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()]
        if let exe = Bundle.main.executableURL { folders.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { folders.append(bundle.bundleURL.deletingLastPathComponent()) }
        let found = folders.map { $0.appendingPathComponent(name).path }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(name) is not built beside the tests")
    }

    /// Runs `name arguments` from the package root; its exit status and standard error.
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable(name))
        process.arguments = arguments
        process.currentDirectoryURL = root
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("overlay-test-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    /// A 2560 × 1920 slide of the IML fixture fields, and `smear analyze` of it into `out` (threads 2)
    /// and `out1` (threads 1).
    static func analysed(in folder: String) throws -> (slide: String, out: String, out1: String) {
        let slide = folder + "/slide/smear-test.tiff"
        let made = try run("smear-bench", ["make-slide", "fixtures/fields/iml-malaria/images", "--width", "2560", "--height", "1920",
                                          "--out", slide])
        #expect(made.status == 0, "\(made.stderr)")
        for (out, threads) in [(folder + "/out", "2"), (folder + "/out1", "1")] {
            let analysed = try run("smear", ["analyze", slide, "--out", out, "--threads", threads])
            #expect(analysed.status == 0, "\(analysed.stderr)")
        }
        return (slide, folder + "/out", folder + "/out1")
    }

    @Test func overlayLinesUpWithTheSlideAndTheViewerHasEveryTile() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (slidePath, out, out1) = try Self.analysed(in: folder)
        let report = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any])
        let s = try #require((report["slides"] as? [[String: Any]])?.first)
        #expect(s["overlay"] as? String == "slides/smear-test/overlay.tiff")
        #expect(s["viewer"] as? String == "slides/smear-test/viewer")
        let core = try #require(s["tile_size"] as? Int)
        #expect(core % 256 == 0)

        // The TIFF: the slide's size, levels of ⌈size/2ᵏ⌉ down to one tile, tiles of a core × a quarter core.
        let overlayPath = out + "/slides/smear-test/overlay.tiff"
        let overlay = try Slide(path: overlayPath), slide = try Slide(path: slidePath)
        #expect(overlay.format == .bigTIFF && OpenSlideReader.vendor(of: overlayPath) == "generic-tiff")
        #expect(overlay.width == 2560 && overlay.height == 1920)
        #expect(overlay.levels[0].tileWidth == core && overlay.levels[0].tileHeight == core / 4)
        for (k, level) in overlay.levels.enumerated() {
            #expect(level.width == (2560 + (1 << k) - 1) >> k && level.height == (1920 + (1 << k) - 1) >> k)
        }
        #expect(overlay.levels.last!.width <= core && overlay.levels.last!.height <= core / 4)
        // The same bytes whatever the number of threads (tiles come in another order).
        #expect(try Data(contentsOf: URL(fileURLWithPath: overlayPath)) == Data(contentsOf: URL(fileURLWithPath: out1 + "/slides/smear-test/overlay.tiff")))

        // Level 0 of the first tile (counted): the slide where nothing is drawn, outlines on the cells.
        let tiles = try #require(s["tiles"] as? [[String: Any]])
        #expect(tiles.first { $0["index"] as? Int == 0 }?["counted"] as? Bool == true)
        let side = min(core, 1920)
        let drawn = try overlay.region(x: 0, y: 0, width: side, height: side), original = try slide.region(x: 0, y: 0, width: side, height: side)
        let rows = try String(contentsOf: URL(fileURLWithPath: out + "/cells.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var near = [Bool](repeating: false, count: side * side)   // within reach of any drawing: boxes, labels under them
        for r in rows {
            let x = Int(r[2])!, y = Int(r[3])!, w = Int(r[4])!, h = Int(r[5])!
            let x0 = max(0, x - 4), x1 = min(side, x + w + 4), y0 = max(0, y - 4), y1 = min(side, y + h + 30)
            guard x0 < x1, y0 < y1 else { continue }
            for py in y0..<y1 {
                for px in x0..<x1 { near[py * side + px] = true }
            }
        }
        var free = 0, sum = 0, far = 0
        for i in 0..<(side * side) where !near[i] {
            let d = (0..<3).reduce(0) { $0 + abs(Int(drawn.pixels[3 * i + $1]) - Int(original.pixels[3 * i + $1])) }
            free += 1; sum += d
            if d > 72 { far += 1 }
        }
        #expect(free > side * side / 10)
        #expect(Double(sum) / Double(3 * free) < 2, "mean difference off the drawings \(Double(sum) / Double(3 * free))")
        #expect(Double(far) / Double(free) < 0.001)
        let geojson = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/slides/smear-test/cells.geojson"))) as? [String: Any])
        var shift: [String: (red: Int, green: Int, count: Int)] = [:]
        for feature in try #require(geojson["features"] as? [[String: Any]]) {
            let name = (((feature["properties"] as? [String: Any])?["classification"] as? [String: Any])?["name"] as? String) ?? ""
            let ring = try #require(((feature["geometry"] as? [String: Any])?["coordinates"] as? [[[Double]]])?.first)
            for point in ring {
                let x = Int(point[0]), y = Int(point[1])
                guard x < side, y < side else { continue }
                let a = drawn[x, y], b = original[x, y]
                var entry = shift[name] ?? (0, 0, 0)
                entry.red += Int(a.r) - Int(b.r); entry.green += Int(a.g) - Int(b.g); entry.count += 1
                shift[name] = entry
            }
        }
        // Uninfected cells: thin green (0, 220, 60) outlines; parasitized: bold red (255, 30, 30).
        let green = try #require(shift["Uninfected"]), red = try #require(shift["Parasitized"])
        #expect(green.count > 1000 && Double(green.green) / Double(green.count) > 12 && Double(green.red) / Double(green.count) < -20)
        #expect(red.count > 50 && Double(red.red) / Double(red.count) > 25 && Double(red.green) / Double(red.count) < -30)

        // The viewer: every tile of every level, each a JPEG of its level's tile size, and the TIFF's own bytes.
        let html = try String(contentsOf: URL(fileURLWithPath: out + "/report.html"), encoding: .utf8)
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(html.contains("counted in 1 slide") && html.contains("1 slide analysed") && !html.contains("analysed as a batch"))   // a slide is a sample, not a batch of fields
        let levels = try #require(Self.attribute("data-levels", in: html).flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [[Int]]
        })
        let base = try #require(Self.attribute("data-tiles", in: html))
        #expect(levels == overlay.levels.map { [$0.width, $0.height, $0.tileWidth!, $0.tileHeight!] })
        let tiff = try #require(TIFFOpen(overlayPath, "r"))
        defer { TIFFClose(tiff) }
        for (k, level) in levels.enumerated() {
            if k > 0 { TIFFReadDirectory(tiff) }
            for row in 0..<((level[1] + level[3] - 1) / level[3]) {
                for column in 0..<((level[0] + level[2] - 1) / level[2]) {
                    let file = "\(out)/\(base)/\(k)/\(column)_\(row).jpg"
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
                    let picture = try ImageCodecs.decode(bytes, name: file)
                    #expect(picture.width == level[2] && picture.height == level[3])
                    var raw = [UInt8](repeating: 0, count: bytes.count + 16)
                    let index = TIFFComputeTile(tiff, UInt32(column * level[2]), UInt32(row * level[3]), 0, 0)
                    let count = raw.withUnsafeMutableBytes { TIFFReadRawTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
                    #expect(Array(raw.prefix(Int(count))) == bytes, "\(file) is not the TIFF's tile")
                }
            }
        }

        // Links: the gallery's pictures exist and open a place on this slide; so do the quality map and the TIFF.
        let key = try #require(Self.attribute("data-slide", in: html))
        let links = Self.all("href=\"#", in: html).map { $0.replacingOccurrences(of: "&amp;", with: "&") }
        #expect(!links.isEmpty && links.count == s["parasitized"] as? Int)
        for link in links {
            let fields = Dictionary(uniqueKeysWithValues: link.split(separator: "&").map { part -> (String, String) in
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                return (pair[0], pair.count > 1 ? pair[1] : "")
            })
            #expect(fields["slide"]?.removingPercentEncoding == key)
            #expect((Double(fields["x"] ?? "") ?? -1) >= 0 && (Double(fields["x"] ?? "") ?? .infinity) < 2560)
            #expect((Double(fields["y"] ?? "") ?? -1) >= 0 && (Double(fields["y"] ?? "") ?? .infinity) < 1920)
        }
        for path in Self.all("src=\"", in: html) + Self.all("href=\"slides/", in: html).map({ "slides/" + $0 }) {
            #expect(FileManager.default.fileExists(atPath: out + "/" + (path.removingPercentEncoding ?? path)), "\(path)")
        }
    }

    /// The value of the first `name="…"` in `html`.
    static func attribute(_ name: String, in html: String) -> String? {
        all("\(name)=\"", in: html).first
    }

    /// Every value that follows `prefix` in `html`, up to the next double quote.
    static func all(_ prefix: String, in html: String) -> [String] {
        html.components(separatedBy: prefix).dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}
