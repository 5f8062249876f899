import Classifier
import Foundation
import ImageCodecs
import Testing

/// The fixture fields given as two folders and two single files, in this order.
let analyzeInputs = [Fixture.images("iml-malaria"), Fixture.images("chula-rbc12"),
                     Fixture.images("bccd") + "/BloodImage_00002.jpg", Fixture.images("bccd") + "/BloodImage_00006.jpg"]

/// The paths `smear analyze` should report for `analyzeInputs`: folders expanded in name order.
let analyzedFiles = Fixture.imageNames("iml-malaria").map { Fixture.images("iml-malaria") + "/" + $0 }
    + Fixture.imageNames("chula-rbc12").map { Fixture.images("chula-rbc12") + "/" + $0 }
    + Array(analyzeInputs[2...])

/// One `smear analyze … --json` run over every fixture field, shared by the tests below (the debug
/// segmenter takes a few seconds per field).
let fixtureAnalysis = OutputRun(["analyze"] + analyzeInputs + ["--json"])

let statuses: Set<String> = ["counted", "border", "leukocyte", "debris"]

func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

@Suite("smear analyze on the fixture fields")
struct AnalyzeTests {
    let result = fixtureAnalysis

    @Test("exits 0 and writes exactly report.json, cells.csv, report.html, one overlay per field and one picture per parasitized cell")
    func outputFolder() throws {
        #expect(result.run.status == 0, "\(result.run)")
        let overlays = analyzedFiles.map { "overlays/\(stem($0)).png" }
        let report = try Report.decode(result.files["report.json"])
        let pictures = report.cells.filter { $0.class == "parasitized" }.map { "cells/\(stem($0.image))_cell_\($0.id).png" }
        let folders = pictures.isEmpty ? [] : ["cells/"]
        let written = (["cells.csv", "overlays/", "report.html", "report.json"] + folders + overlays + pictures).sorted()
        #expect(result.listing == ([".smear-files", ".smear-lock"] + written).sorted())
        #expect(!result.listing.contains { $0.hasPrefix(".smear-staging") }, "a staging folder was left behind")
        // The hidden list of this run's files, which the next run into the folder replaces.
        #expect(result.text(".smear-files") == written.filter { !$0.hasSuffix("/") }.map { $0 + "\n" }.joined())
    }

    @Test("report.json has the documented keys")
    func reportKeys() throws {
        let data = result.files["report.json"]
        #expect(try jsonKeys(data) == ["tool", "settings", "images", "slides", "samples", "failures", "cells", "totals"])
        #expect(try jsonKeys(data, "tool") == ["name", "version"])
        #expect(try jsonKeys(data, "settings") == ["model", "threshold", "symmetries", "operating_point", "cell_diameter", "target_cells",
                                                   "red_cells_per_microlitre"])
        #expect(try jsonKeys(data, "images") == ["file", "sample", "width", "height", "cells_counted", "parasitized",
                                                 "parasitemia_percent", "excluded", "cell_diameter",
                                                 "cell_diameter_estimated", "overlay", "seconds", "quality"])
        #expect(try jsonKeys(data, "images", "quality") == ["passed", "problem", "diameter_fraction", "size_agreement", "coverage",
                                                            "outline_contrast", "background_texture", "glass_level",
                                                            "glass_saturation", "stain_red_to_green", "stain_blue_to_green",
                                                            "roundness"])
        #expect(try jsonKeys(data, "images", "excluded") == ["border", "leukocyte", "debris"])
        #expect(try jsonKeys(data, "cells") == ["image", "id", "x", "y", "width", "height", "centroid_x", "centroid_y",
                                                "area", "status", "class", "p_parasitized"])
        #expect(try jsonKeys(data, "totals") == ["images", "failed", "cells_counted", "parasitized", "parasitemia_percent",
                                                 "parasitemia_ci95_percent", "adjusted_parasitemia_percent",
                                                 "adjusted_parasitemia_ci95_percent", "excluded"])
        // `class` and `p_parasitized` are always present (null for objects that are not counted).
        let text = result.text("report.json")
        #expect(text.contains("\"class\" :") && text.contains("\"p_parasitized\" :"))
    }

    @Test("one entry per field, in input order, with its size, overlay and time")
    func images() throws {
        let report = try Report.decode(result.files["report.json"])
        #expect(report.tool.name == "smear")
        #expect(!report.tool.version.isEmpty)
        #expect(report.failures.isEmpty)
        #expect(report.images.map(\.file) == analyzedFiles)
        for image in report.images {
            let expected = image.file.contains("iml-malaria") ? (1280, 960) : (640, 480)
            #expect(image.width == expected.0 && image.height == expected.1, "\(image.file)")
            #expect(image.overlay == "overlays/\(stem(image.file)).png")
            #expect(image.seconds > 0 && image.seconds < 600)
            #expect(image.cellDiameterEstimated)
            #expect(image.cellDiameter > 10 && image.cellDiameter < 200, "\(image.file): \(image.cellDiameter)")
        }
    }

    @Test("cells_counted and excluded match the cells; totals add up")
    func countsAddUp() throws {
        let report = try Report.decode(result.files["report.json"])
        var totalExcluded: [String: Int] = [:]
        for image in report.images {
            let cells = report.cells.filter { $0.image == image.file }
            #expect(image.cellsCounted == cells.filter { $0.status == "counted" }.count, "\(image.file)")
            #expect(image.cellsCounted > 0, "\(image.file)")
            for status in statuses.subtracting(["counted"]) {
                #expect(image.excluded[status] == cells.filter { $0.status == status }.count, "\(image.file): \(status)")
            }
            totalExcluded.merge(image.excluded, uniquingKeysWith: +)
        }
        #expect(Set(report.cells.map(\.image)).isSubset(of: Set(analyzedFiles)))
        #expect(report.totals.images == analyzedFiles.count)
        #expect(report.totals.failed == 0)
        #expect(report.totals.cellsCounted == report.images.reduce(0) { $0 + $1.cellsCounted })
        #expect(report.totals.excluded == totalExcluded)
        // PA171690 shows a leukocyte (bottom right); BCCD fields each hold an annotated one.
        for name in ["PA171690.JPG", "BloodImage_00002.jpg", "BloodImage_00006.jpg"] {
            let image = try #require(report.images.first { $0.file.hasSuffix("/" + name) })
            #expect((image.excluded["leukocyte"] ?? 0) >= 1, "\(name): no leukocyte excluded")
        }
    }

    @Test("every object lies in its image; counted cells do not touch the border")
    func geometry() throws {
        let report = try Report.decode(result.files["report.json"])
        for image in report.images {
            let cells = report.cells.filter { $0.image == image.file }
            #expect(Set(cells.map(\.id)).count == cells.count, "\(image.file): ids repeat")
            for c in cells {
                let where_ = "\(stem(image.file)) #\(c.id)"
                #expect(statuses.contains(c.status), "\(where_): status \(c.status)")
                #expect(c.id > 0 && c.width > 0 && c.height > 0, "\(where_)")
                #expect(c.x >= 0 && c.y >= 0 && c.x + c.width <= image.width && c.y + c.height <= image.height, "\(where_)")
                #expect(c.area > 0 && c.area <= c.width * c.height, "\(where_)")
                #expect(Double(c.x) <= c.centroidX && c.centroidX <= Double(c.x + c.width), "\(where_)")
                #expect(Double(c.y) <= c.centroidY && c.centroidY <= Double(c.y + c.height), "\(where_)")
                let touches = c.x == 0 || c.y == 0 || c.x + c.width >= image.width || c.y + c.height >= image.height
                if c.status == "counted" { #expect(!touches, "\(where_): counted but touches the border") }
                if c.status == "border" { #expect(touches, "\(where_): marked border but inside") }
            }
        }
    }

    @Test("every counted cell is classified by the bundled model, and its class follows the threshold")
    func classifierColumns() throws {
        let report = try Report.decode(result.files["report.json"])
        let threshold = try #require(report.settings.threshold)
        #expect(report.settings.model != nil)
        for c in report.cells {
            if c.status != "counted" {
                #expect(c.class == nil && c.pParasitized == nil, "\(c.image) #\(c.id): a \(c.status) object was classified")
                continue
            }
            let p = try #require(c.pParasitized, "\(c.image) #\(c.id): counted cell without probability")
            #expect(p >= 0 && p <= 1)
            #expect(c.class == (p >= threshold ? "parasitized" : "uninfected"), "\(c.image) #\(c.id): \(c.class ?? "nil") at \(p)")
        }
    }

    @Test("cells.csv holds the same rows as the JSON cells")
    func csvMatchesJSON() throws {
        let report = try Report.decode(result.files["report.json"])
        let rows = parseCSV(result.text("cells.csv"))
        #expect(rows.first == ["image", "id", "x", "y", "width", "height", "centroid_x", "centroid_y", "area",
                               "status", "class", "p_parasitized"])
        let body = Array(rows.dropFirst())
        try #require(body.count == report.cells.count, "cells.csv has \(body.count) rows, report.json \(report.cells.count) cells")
        for (row, c) in zip(body, report.cells) {
            try #require(row.count == 12, "\(row)")
            #expect(row[0] == c.image)
            #expect(row[1...5].compactMap { Int($0) } == [c.id, c.x, c.y, c.width, c.height], "\(row)")
            #expect(Double(row[6]) == c.centroidX && Double(row[7]) == c.centroidY, "\(row)")
            #expect(Int(row[8]) == c.area && row[9] == c.status, "\(row)")
            #expect(row[10] == (c.class ?? ""), "\(row)")
            if let p = c.pParasitized { #expect(abs((Double(row[11]) ?? -1) - p) < 1e-4, "\(row)") } else { #expect(row[11] == "") }
        }
    }

    @Test("overlays: the field under a legend band, outlines in the documented colours",
          arguments: analyzedFiles)
    func overlay(file: String) throws {
        let report = try Report.decode(result.files["report.json"])
        let entry = try #require(report.images.first { $0.file == file })
        let overlayName = try #require(entry.overlay)
        let png = try #require(result.files[overlayName], "no overlay for \(file)")
        let overlay = try ImageCodecs.decode(Array(png), name: "overlay")
        let field = try ImageCodecs.read(path: Fixture.path(file))
        #expect(overlay.width == field.width)
        let band = overlay.height - field.height
        #expect(band >= 8 && band <= 80, "legend band of \(band) px")
        // Below the band the field itself, unchanged except for outlines and labels.
        var same = 0, counted = 0, parasitized = 0, leukocyte = 0
        let fieldBytes = field.pixels, overlayBytes = overlay.pixels
        let offset = band * overlay.width * 3
        for i in stride(from: 0, to: fieldBytes.count, by: 3) {
            let r = overlayBytes[offset + i], g = overlayBytes[offset + i + 1], b = overlayBytes[offset + i + 2]
            if r == fieldBytes[i] && g == fieldBytes[i + 1] && b == fieldBytes[i + 2] { same += 1 }
            if (r, g, b) == (0, 220, 60) { counted += 1 }
            if (r, g, b) == (255, 30, 30) { parasitized += 1 }
            if (r, g, b) == (255, 150, 0) { leukocyte += 1 }
        }
        let pixels = field.width * field.height
        #expect(Double(same) > 0.6 * Double(pixels), "only \(same) of \(pixels) field pixels unchanged")
        // Uninfected cells thinly in green, parasitized ones boldly in red.
        let calledParasitized = report.cells.filter { $0.image == file && $0.class == "parasitized" }.count
        #expect(counted > (entry.cellsCounted - calledParasitized) * 20, "\(counted) green outline pixels for \(entry.cellsCounted) cells")
        if calledParasitized > 0 { #expect(parasitized > calledParasitized * 60, "\(parasitized) red pixels for \(calledParasitized) cells") }
        if (entry.excluded["leukocyte"] ?? 0) > 0 { #expect(leukocyte > 50, "no orange leukocyte outline") }
    }

    @Test("--json prints exactly report.json")
    func jsonOnStdout() throws {
        #expect(!result.run.stdout.isEmpty)
        #expect(result.run.stdout == result.files["report.json"])
    }

    @Test("standard error: one progress line per field, then the summary")
    func progress() throws {
        let report = try Report.decode(result.files["report.json"])
        let lines = result.run.stderrLines
        let n = analyzedFiles.count
        try #require(lines.count == n + 2, "\(result.run.stderr)")
        var seen: [String] = []
        for (k, line) in lines.prefix(n).enumerated() {
            let prefix = "[\(k + 1)/\(n)] "
            #expect(line.hasPrefix(prefix), "\(line)")
            // "NAME" or, between the first and the last, "NAME, M:SS left".
            let rest = line.dropFirst(prefix.count)
            let name = rest.range(of: ", ").map { String(rest[..<$0.lowerBound]) } ?? String(rest)
            if k > 0 && k < n - 1 { #expect(rest.range(of: #", \d+:\d\d left$"#, options: .regularExpression) != nil, "\(line)") }
            seen.append(name)
        }
        #expect(seen.sorted() == analyzedFiles.map { ($0 as NSString).lastPathComponent }.sorted())
        #expect(Array(lines[n...]) == batchSummary(report, fields: n, out: result.out))
    }

    @Test("a second run into the same folder leaves no overlay of the first run's other fields")
    func reusedFolder() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("out").path
        let first = smear(["analyze", Fixture.images("bccd"), "--no-classify", "--out", out])
        #expect(first.status == 0, "\(first)")
        #expect(folderListing(URL(fileURLWithPath: out + "/overlays")) == ["BloodImage_00002.png", "BloodImage_00006.png"])
        let second = smear(["analyze", Fixture.images("bccd") + "/BloodImage_00006.jpg", "--no-classify", "--out", out])
        #expect(second.status == 0, "\(second)")
        #expect(folderListing(URL(fileURLWithPath: out + "/overlays")) == ["BloodImage_00006.png"])
        let report = try Report.decode(try? Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        #expect(folderListing(URL(fileURLWithPath: out)) == expectedListing(report))
    }

    @Test("one file: no progress line, nothing on stdout; --crops writes one crop per counted cell, leukocytes apart")
    func singleFile() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("out").path, crops = folder.appendingPathComponent("crops").path
        let file = Fixture.images("bccd") + "/BloodImage_00006.jpg"
        let run = smear(["analyze", file, "--out", out, "--crops", crops])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.isEmpty)
        let report = try Report.decode(try? Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        #expect(run.stderrLines == batchSummary(report, fields: 1, out: out))
        #expect(report.images.map(\.file) == [file])
        let counted = report.cells.filter { $0.status == "counted" }.map { "BloodImage_00006_cell_\($0.id).png" }
        // The field's one leukocyte (BCCD boxes one WBC in it) in leukocytes/, cut the same way.
        let leukocytes = report.cells.filter { $0.status == "leukocyte" }.map { "leukocytes/BloodImage_00006_cell_\($0.id).png" }
        #expect(leukocytes.count == 1)
        #expect(folderListing(URL(fileURLWithPath: crops)) == ([".smear-files", ".smear-lock", "leukocytes/"] + counted + leukocytes).sorted())
        // Cut as the bundled model classifies them: the box grown by the model's ring of context.
        let context = try CellClassifier.bundled().model.preprocessing.context
        for (file, status) in [(counted[0], "counted"), (leukocytes.first ?? "", "leukocyte")] {
            let crop = try ImageCodecs.read(path: crops + "/" + file)
            let cell = report.cells.first { $0.status == status }!
            let ring = Int((Double(context) * Double(max(cell.width, cell.height))).rounded())
            #expect(crop.width == cell.width + 2 * ring && crop.height == cell.height + 2 * ring)
        }
    }

    @Test("--crop-context keeps a ring of the field around each crop; crops cuts the same ring; bad values are refused")
    func cropContext() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let path = { (name: String) in folder.appendingPathComponent(name).path }
        let file = Fixture.images("iml-malaria") + "/PA171690.JPG"
        let run = smear(["analyze", file, "--no-classify", "--out", path("out"), "--crops", path("ringed"), "--crop-context", "0.25"])
        #expect(run.status == 0, "\(run)")
        let report = try Report.decode(try? Data(contentsOf: URL(fileURLWithPath: path("out") + "/report.json")))
        let counted = report.cells.filter { $0.status == "counted" }
        #expect(counted.count > 50)
        let field = try ImageCodecs.read(path: file)
        for cell in counted {
            let crop = try ImageCodecs.read(path: path("ringed") + "/PA171690_cell_\(cell.id).png")
            let ring = Int((0.25 * Double(max(cell.width, cell.height))).rounded())
            #expect(crop.width == cell.width + 2 * ring && crop.height == cell.height + 2 * ring, "cell \(cell.id)")
            // The ring shows the field: the middle of its left edge (next to the mask's leftmost pixels,
            // whenever the ring lies inside the field) is the field's pixel there.
            let fx = cell.x - ring, fy = cell.y + cell.height / 2
            if ring > 0, fx >= 0, fy < field.height {
                let here = crop[0, cell.height / 2 + ring]
                if here != (0, 0, 0) { #expect(here == field[fx, fy], "cell \(cell.id)") }
            }
        }
        // `smear crops` with the same ring gives the same crops for the cells it labels.
        let labelled = smear(["crops", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"), "--out", path("labelled"),
                              "--crop-context", "0.25"])
        #expect(labelled.status == 0, "\(labelled)")
        var compared = 0
        for c in ["parasitized", "uninfected"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: path("labelled") + "/" + c) where name.hasPrefix("PA171690_") {
                #expect(try Data(contentsOf: URL(fileURLWithPath: path("labelled") + "/\(c)/\(name)"))
                        == Data(contentsOf: URL(fileURLWithPath: path("ringed") + "/" + name)), "\(name)")
                compared += 1
            }
        }
        #expect(compared > 50)
        for (arguments, message) in [
            (["analyze", file, "--out", path("a"), "--crops", path("c"), "--crop-context", "0.6"], "Error: --crop-context must be between 0 and 0.5"),
            (["analyze", file, "--out", path("a"), "--crop-context", "0.1"], "Error: --crop-context needs --crops"),
            (["crops", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"), "--out", path("c"), "--crop-context=-0.1"],
             "Error: --crop-context must be between 0 and 0.5"),
        ] {
            let bad = smear(arguments)
            #expect(bad.status != 0 && bad.stderrLines.first == message, "\(bad)")
        }
    }
}
