import Foundation
import ImageCodecs
import Slides
import Testing

/// `smear analyze` on a slide: a pyramidal tiled BigTIFF built from the two IML fixture fields
/// (`smear-bench make-slide`, 2 × 2 fields), analysed in tiles.
@Suite("smear analyze on a slide")
struct SlideTests {
    /// The `smear-bench` executable beside `smear`.
    static var bench: String? {
        smearBinary.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("smear-bench") }
    }

    /// Runs `smear-bench` with `arguments` (from the package root); its exit status.
    static func runBench(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(bench))
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("a slide is counted in tiles: each cell once, cells.csv and GeoJSON in slide coordinates, a quality map")
    func slideInTiles() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let slide = folder.appendingPathComponent("slide/smear-test.tiff").path
        #expect(try Self.runBench(["make-slide", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"),
                                   "--width", "2560", "--height", "1920", "--out", slide]) == 0)
        let out = folder.appendingPathComponent("out")
        let run = smear(["analyze", slide, "--out", out.path, "--no-classify"])
        #expect(run.status == 0, "\(run)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        #expect((json["images"] as? [Any])?.isEmpty == true)
        let slides = try #require(json["slides"] as? [[String: Any]])
        #expect(slides.count == 1)
        let s = slides[0]
        #expect(s["width"] as? Int == 2560 && s["height"] as? Int == 1920)
        #expect(s["cell_diameter_source"] as? String == "estimated")
        let tiles = try #require(s["tiles"] as? [[String: Any]])
        #expect(tiles.count == s["tiles_total"] as? Int && tiles.count > 1)
        let counted = try #require(s["cells_counted"] as? Int)
        #expect(counted == tiles.filter { $0["counted"] as? Bool == true }.reduce(0) { $0 + ($1["cells_counted"] as! Int) })
        let threshold = try #require(s["foreground_threshold"] as? Double)
        #expect(threshold >= 0.04 && threshold < 1)
        // The summary on standard error: the slide's line, then the totals counted in one slide.
        let summary = run.stderrLines.filter { !$0.hasPrefix("[") }.suffix(3)
        #expect(Array(summary) == ["smear-test: \(counted) red cells in \(tiles.count) of \(tiles.count) tiles",
                                   "\(counted) red cells counted in 1 slide", "results in \(out.path)"], "\(summary)")

        // cells.csv: the slide's objects in slide coordinates, ids unique across the slide, no cell twice.
        let rows = parseCSV(try String(contentsOf: out.appendingPathComponent("cells.csv"), encoding: .utf8)).dropFirst()
        #expect(rows.allSatisfy { $0[0] == slide })
        let ids = rows.map { Int($0[1])! }
        #expect(Set(ids).count == ids.count)
        let boxes = rows.filter { $0[9] == "counted" }.map { r in (x: Double(r[2])!, y: Double(r[3])!, w: Double(r[4])!, h: Double(r[5])!) }
        #expect(boxes.count >= counted)   // cells of tiles not counted are listed too
        var duplicates = 0
        for i in boxes.indices {
            for j in boxes.indices where j > i {
                let a = boxes[i], b = boxes[j]
                let iw = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x)), ih = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
                if iw * ih >= 0.5 * (a.w * a.h + b.w * b.h - iw * ih) { duplicates += 1 }
            }
        }
        #expect(duplicates == 0)
        // The four fields' counts add up to about the slide's (the slide's cells cut by a field's edge are
        // border cells, as in the fields themselves).
        let fields = smear(["analyze", Fixture.images("iml-malaria"), "--out", folder.appendingPathComponent("fields").path, "--no-classify"])
        let perField = try Report.decode(try? Data(contentsOf: folder.appendingPathComponent("fields/report.json"))).totals.cellsCounted
        #expect(fields.status == 0)
        #expect(abs(Double(counted) / Double(2 * perField) - 1) < 0.1, "\(counted) on the slide, 2 × \(perField) in its fields")

        // The GeoJSON: QuPath's import shape, one feature per object, polygons closed, in the slide.
        let geojsonPath = try #require(s["geojson"] as? String)
        let geo = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(geojsonPath))) as? [String: Any])
        #expect(geo["type"] as? String == "FeatureCollection")
        let features = try #require(geo["features"] as? [[String: Any]])
        #expect(features.count == rows.count)
        for feature in features {
            let properties = try #require(feature["properties"] as? [String: Any])
            #expect(properties["objectType"] as? String == "detection")
            let classification = try #require(properties["classification"] as? [String: Any])
            #expect(["Red cell", "Border", "Leukocyte", "Debris"].contains(classification["name"] as? String ?? ""))
            #expect((classification["color"] as? [Int])?.count == 3)
            #expect((properties["measurements"] as? [String: Any])?["area"] is Int)
            let geometry = try #require(feature["geometry"] as? [String: Any])
            #expect(geometry["type"] as? String == "Polygon")
            let ring = try #require((geometry["coordinates"] as? [[[Double]]])?.first)
            #expect(ring.count >= 4 && ring.first! == ring.last!)
            #expect(ring.allSatisfy { $0[0] >= 0 && $0[1] >= 0 && $0[0] <= 2560 && $0[1] <= 1920 })
        }
        let map = try #require(s["quality_map"] as? String)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(map).path))
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("quality-map.png"))
    }

    @Test("a seamless slide counted in tiles finds the cells of the same image counted in one piece")
    func tiledEqualsWhole() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        // One field mirrored into a 2 × 2 mosaic: no stitching seam, so only the tiling differs.
        let slidePath = folder.appendingPathComponent("mirror.tiff").path
        let field = Fixture.images("iml-malaria") + "/" + Fixture.imageNames("iml-malaria")[0]
        #expect(try Self.runBench(["make-slide", field, "--mirror", "--width", "2560", "--height", "1920", "--out", slidePath]) == 0)
        let tiled = smear(["analyze", slidePath, "--out", folder.appendingPathComponent("tiled").path, "--no-classify"])
        #expect(tiled.status == 0, "\(tiled)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("tiled/report.json"))) as? [String: Any])
        let s = try #require((json["slides"] as? [[String: Any]])?.first)
        let diameter = try #require(s["cell_diameter"] as? Double)
        #expect(try #require(s["tiles_total"] as? Int) >= 4)

        // The same pixels as one image, with the slide's cell size.
        let slide = try Slide(path: slidePath)
        let wholePath = folder.appendingPathComponent("mirror.png").path
        try Data(ImageCodecs.encodePNG(try slide.region(x: 0, y: 0, width: slide.width, height: slide.height))).write(to: URL(fileURLWithPath: wholePath))
        let whole = smear(["analyze", wholePath, "--out", folder.appendingPathComponent("whole").path, "--no-classify",
                           "--cell-diameter", String(diameter)])
        #expect(whole.status == 0, "\(whole)")

        func counted(_ run: String) throws -> [(x: Double, y: Double, box: (Double, Double, Double, Double))] {
            parseCSV(try String(contentsOf: folder.appendingPathComponent("\(run)/cells.csv"), encoding: .utf8)).dropFirst()
                .filter { $0[9] == "counted" }
                .map { r in (Double(r[6])!, Double(r[7])!, (Double(r[2])!, Double(r[3])!, Double(r[4])!, Double(r[5])!)) }
        }
        let a = try counted("tiled"), b = try counted("whole")
        #expect(abs(Double(a.count) / Double(b.count) - 1) <= 0.005, "\(a.count) cells in tiles, \(b.count) in one piece")
        // No cell twice: no two counted boxes with IoU ≥ 0.5 owned by different tiles (within one tile
        // a crescent-shaped object's box may hold a round neighbour's, in the whole image too).
        let core = try #require(s["tile_size"] as? Int)
        func owner(_ c: (x: Double, y: Double, box: (Double, Double, Double, Double))) -> Int { Int(c.y) / core * 1000 + Int(c.x) / core }
        var duplicates = 0
        for i in a.indices {
            for j in a.indices where j > i && owner(a[i]) != owner(a[j]) && abs(a[i].x - a[j].x) < diameter && abs(a[i].y - a[j].y) < diameter {
                let p = a[i].box, q = a[j].box
                let iw = max(0, min(p.0 + p.2, q.0 + q.2) - max(p.0, q.0)), ih = max(0, min(p.1 + p.3, q.1 + q.3) - max(p.1, q.1))
                if iw * ih >= 0.5 * (p.2 * p.3 + q.2 * q.3 - iw * ih) { duplicates += 1 }
            }
        }
        #expect(duplicates == 0)
        // None lost: a cell of the whole image without a tiled cell within half a diameter is a split or
        // merge decided differently; those are rare, and no more common near the tiles' seams.
        func lost(_ cells: [(x: Double, y: Double, box: (Double, Double, Double, Double))]) -> Int {
            cells.filter { c in !a.contains { ($0.x - c.x) * ($0.x - c.x) + ($0.y - c.y) * ($0.y - c.y) < diameter * diameter / 4 } }.count
        }
        let nearSeams = b.filter { c in
            let dx = c.x.truncatingRemainder(dividingBy: Double(core)), dy = c.y.truncatingRemainder(dividingBy: Double(core))
            return min(dx, Double(core) - dx, dy, Double(core) - dy) < diameter
        }
        #expect(lost(b) <= b.count / 200, "\(lost(b)) of \(b.count) cells of the whole image have no tiled cell nearby")
        #expect(lost(nearSeams) <= max(2, nearSeams.count / 200), "\(lost(nearSeams)) of \(nearSeams.count) near the tiles' seams")
    }

    @Test("counting a slide to a target analyses few tiles; the overlay shows the others flat grey, NOT ANALYSED")
    func countToATarget() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let slidePath = folder.appendingPathComponent("slide.tiff").path
        #expect(try Self.runBench(["make-slide", Fixture.images("iml-malaria"), "--width", "2560", "--height", "1920", "--out", slidePath]) == 0)
        let out = folder.appendingPathComponent("out")
        let run = smear(["analyze", slidePath, "--out", out.path, "--no-classify", "--target-cells", "50"])
        #expect(run.status == 0, "\(run)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let s = try #require((json["slides"] as? [[String: Any]])?.first)
        let analysed = try #require(s["tiles"] as? [[String: Any]])
        let total = try #require(s["tiles_total"] as? Int), core = try #require(s["tile_size"] as? Int)
        #expect(analysed.count < total && s["target_reached"] as? Bool == true)
        // A core never analysed: below its notice, the overlay is the flat grey of the quality map's
        // "not analysed" (JPEG: within a few levels).
        let done = Set(analysed.compactMap { $0["index"] as? Int })
        let columns = (2560 + core - 1) / core
        let idle = try #require((0..<total).first { !done.contains($0) })
        let overlay = try Slide(path: out.appendingPathComponent(try #require(s["overlay"] as? String)).path)
        let x = idle % columns * core, y = idle / columns * core
        let w = min(core, 2560 - x), h = min(core, 1920 - y)   // its centre: clear of the notice and of neighbours' outlines
        let region = try overlay.region(x: x + w / 2 - 32, y: y + h / 2 - 16, width: 64, height: 32)
        #expect(region.pixels.allSatisfy { abs(Int($0) - 225) <= 4 }, "not flat grey at core \(idle)")
    }

    @Test("a slide run interrupted leaves no results; --resume takes the tiles it had done and gives the uninterrupted run's cells")
    func interruptedAndResumed() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let slidePath = folder.appendingPathComponent("slide.tiff").path
        #expect(try Self.runBench(["make-slide", Fixture.images("iml-malaria"), "--width", "3840", "--height", "2880", "--out", slidePath]) == 0)
        let reference = folder.appendingPathComponent("reference"), out = folder.appendingPathComponent("out")
        let plain = smear(["analyze", slidePath, "--out", reference.path, "--no-classify", "--threads", "1"])
        #expect(plain.status == 0, "\(plain)")
        #expect(!FileManager.default.fileExists(atPath: reference.appendingPathComponent(".smear-resume").path))   // gone once complete

        // Interrupted (SIGTERM) once two tiles are kept.
        let kept = out.appendingPathComponent(".smear-resume/slide_tiff").path
        func keptTiles() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: kept)) ?? []).filter { $0.hasSuffix(".tile") }.count }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(smearBinary))
        process.arguments = ["analyze", slidePath, "--out", out.path, "--no-classify", "--threads", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while keptTiles() < 2 && process.isRunning && Date() < deadline { usleep(20_000) }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 143)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        let done = keptTiles()
        #expect(done >= 2)

        // Resumed: the kept tiles are taken, the others analysed, the cells are the uninterrupted run's.
        let resumed = smear(["analyze", slidePath, "--out", out.path, "--no-classify", "--resume"])
        #expect(resumed.status == 0, "\(resumed)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let s = try #require((json["slides"] as? [[String: Any]])?.first)
        #expect(s["tiles_resumed"] as? Int == done)
        func lines(_ dir: URL) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent("cells.csv"), encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        }
        #expect(try lines(out) == lines(reference))
        #expect(!FileManager.default.fileExists(atPath: kept))
    }

    @Test("a slide that cannot be read fails with one line naming it")
    func unreadableSlide() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let run = smear(["analyze", "fixtures/slides/unreadable.svs", "--out", folder.appendingPathComponent("out").path])
        #expect(run.status == 1, "\(run)")
        let errors = run.stderrLines.filter { $0.hasPrefix("smear: ") }
        #expect(errors.count == 1 && errors[0].hasPrefix("smear: unreadable.svs: "), "\(run)")
    }
}
