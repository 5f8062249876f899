import Foundation
import ImageCodecs
import Pipeline
import PropertyBased
import Segmentation
import Testing
@testable import Reports

/// report.html and the validation report built from hostile file names, sample names and error
/// messages (Hostile.name: markup, quotes, `&`, line ends, NUL, other scripts, up to 500 characters).
/// Every datum is wrapped in markers ⟪k⟫…⟪/k⟫ so that each place it lands in the page can be found.
@Suite struct ReportPagePropertyTests {
    /// A generated report: its fields' paths, a sample name, failures, the gallery, and the red-cell
    /// density (including absurd ones, which reach the page through parasites/µL).
    struct Page: Sendable {
        var report: AnalysisReport
        var gallery: [ParasitizedGallery.Item]
        /// Every text from the input that the page shows, as it should show it (before escaping).
        var shown: [String]
        /// Every file the page should link to, relative to the output folder.
        var linked: Set<String>
    }

    static func marked(_ text: String, _ k: Int) -> String { "⟪\(k)⟫" + text + "⟪/\(k)⟫" }

    static let pages = Generator<Page, Shrink.None<Page>> { rng in
        var k = 0
        func datum() -> String {
            k += 1
            return marked(Hostile.name(&rng), k)
        }
        let paths = (0..<Int.random(in: 1...5, using: &rng)).map { _ in "in/" + datum() + ".jpg" }
        let overlayNames = overlayFileNames(for: paths)
        let fields = paths.map { path in
            let objects = (0..<3).map { i in
                DetectedObject(id: i == 0 ? Int.random(in: 3...Int.max, using: &rng) : i, x: 10 * i, y: 5,
                               mask: BinaryImage(width: 6, height: 6, bits: [UInt8](repeating: 1, count: 36)), status: .counted)
            }
            let calls = Dictionary(uniqueKeysWithValues: objects.map { ($0.id, CellCall(pParasitized: Hostile.probability(&rng), parasitized: Bool.random(using: &rng))) })
            return FieldAnalysis(path: path, segmentation: SegmentationResult(width: 64, height: 48, objects: objects, cellDiameter: 6,
                                                                              diameterEstimated: true, workingScale: 1),
                                 calls: calls, seconds: 0.1)
        }
        let density = [5e6, 1e300, .infinity, 1].randomElement(using: &rng)!
        let sample = SampleCount(name: Bool.random(using: &rng) ? datum() : "", fields: fields, fieldsAvailable: fields.count,
                                 targetCells: 5000, redCellsPerMicrolitre: density)
        let failures = (0..<Int.random(in: 0...3, using: &rng)).map { _ in FieldFailure(path: datum(), message: datum()) }
        let overlays = Dictionary(zip(paths, overlayNames), uniquingKeysWith: { a, _ in a })
        let report = AnalysisReport(version: "test", settings: .init(model: datum(), threshold: 0.5, cellDiameter: nil, targetCells: 5000,
                                                                      redCellsPerMicrolitre: density),
                                    result: AnalysisResult(samples: [sample], failures: failures), overlays: overlays, classified: true)
        var gallery: [ParasitizedGallery.Item] = []
        for field in fields {
            let overlay = overlays[field.path]!
            for o in field.segmentation.objects where field.calls[o.id]!.parasitized {
                gallery.append(.init(field: field.name, overlay: overlay, id: o.id, pParasitized: field.calls[o.id]!.pParasitized,
                                     centroidX: o.centroidX, centroidY: o.centroidY, picture: "cells/" + cellFileName(overlay: overlay, id: o.id)))
            }
        }
        let shown = fields.map(\.name) + failures.flatMap { [$0.path, $0.message] } + (sample.name.isEmpty ? [] : [sample.name])
            + [report.settings.model!]
        let linked = Set(report.images.compactMap(\.overlay) + gallery.flatMap { [$0.overlay, $0.picture] })
        return Page(report: report, gallery: gallery, shown: shown, linked: linked)
    }

    /// The escaping the page promises, written out independently: entities for `& < > " '`, U+FFFD
    /// for control characters other than tab, line feed and carriage return.
    static func escaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                let v = scalar.value
                if (v < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || (0x7F...0x9F).contains(v) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The tags the page is made of; data must never add one.
    static let ourTags: Set<String> = ["html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "span", "table", "tr", "th",
                                       "td", "a", "img", "b", "br", "div", "figure", "figcaption", "bdi"]

    /// Every "<" in `html` that does not open or close one of our tags (or the doctype).
    static func foreignMarkup(_ html: String) -> [String] {
        let bytes = Array(html.utf8)
        var foreign: [String] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "<") {
            let rest = String(decoding: bytes[(i + 1)..<min(bytes.count, i + 40)], as: UTF8.self)
            if rest.hasPrefix("!DOCTYPE html>") { continue }
            let name = rest.drop { $0 == "/" }.prefix { $0.isASCII && $0.isLetter || $0.isNumber }
            let after = rest.drop { $0 == "/" }.dropFirst(name.count).first
            if !ourTags.contains(String(name)) || (after != " " && after != ">") { foreign.append("<" + rest) }
        }
        return foreign
    }

    /// The text between each pair of markers ⟪k⟫ and ⟪/k⟫ in `html` (found in its UTF-8 bytes, so no
    /// character can merge with a marker).
    static func markedRegions(_ html: String) -> [String] {
        let bytes = Array(html.utf8), open = Array("⟪".utf8), close = Array("⟫".utf8)
        var regions: [String] = []
        var i = 0
        while let start = firstIndex(of: open, in: bytes, from: i), let keyEnd = firstIndex(of: close, in: bytes, from: start + open.count) {
            let key = Array(bytes[(start + open.count)..<keyEnd])
            let contentStart = keyEnd + close.count
            i = contentStart
            // A closing marker whose opening one was cut off with the rest of a path.
            guard key.first != UInt8(ascii: "/") else { continue }
            if let contentEnd = firstIndex(of: open + [UInt8(ascii: "/")] + key + close, in: bytes, from: contentStart) {
                regions.append(String(decoding: bytes[contentStart..<contentEnd], as: UTF8.self))
            }
        }
        return regions
    }

    static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard start <= bytes.count - needle.count else { return nil }
        return (start...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// Where data from the input lands outside a cell of class `data` or a caption's `<bdi>` (which may
    /// break anywhere and are isolated) or an attribute value: for each marker ⟪k⟫, the tag before it.
    static func textOutsideBreakableCells(_ html: String) -> [String] {
        let bytes = Array(html.utf8), open = Array("⟪".utf8)
        var outside: [String] = []
        var i = 0
        while let start = firstIndex(of: open, in: bytes, from: i) {
            i = start + open.count
            guard let tagStart = bytes[..<start].lastIndex(of: UInt8(ascii: "<")) else { continue }
            let tagEnd = bytes[tagStart...].firstIndex(of: UInt8(ascii: ">")) ?? bytes.count
            if tagEnd > start { continue }   // inside the tag: an attribute value
            let tag = String(decoding: bytes[tagStart...tagEnd], as: UTF8.self)
            if !["<td class=\"data\">", "<bdi>"].contains(tag) { outside.append(tag) }
        }
        return outside
    }

    /// The values of every `href="…"` and `src="…"` attribute.
    static func links(_ html: String) -> [String] {
        var values: [String] = []
        for attribute in ["href=\"", "src=\""] {
            var rest = Substring(html)
            while let r = rest.range(of: attribute) {
                let value = rest[r.upperBound...].prefix { $0 != "\"" }
                values.append(String(value))
                rest = rest[r.upperBound...].dropFirst(value.count)
            }
        }
        return values
    }

    @Test func hostileNamesAreEscapedLinkedAndWrapped() async {
        await propertyCheck(count: 60, input: Self.pages) { page in
            let html = HTMLReport(report: page.report, gallery: page.gallery).html()
            #expect(Self.foreignMarkup(html).isEmpty, "markup from data: \(Self.foreignMarkup(html).prefix(3))")
            for region in Self.markedRegions(html) {
                #expect(!region.contains(where: { "<>\"'".contains($0) }), "unescaped data: \(region.debugDescription)")
            }
            for text in page.shown { #expect(html.contains(Self.escaped(text)), "not shown: \(text.debugDescription)") }
            let base = URL(fileURLWithPath: "/out/report.html")
            var reached = Set<String>()
            for link in Self.links(html) {
                #expect(link.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~/%".contains($0)) }, "\(link)")
                let url = URL(string: link, relativeTo: base)
                #expect(url?.query == nil && url?.fragment == nil)
                if let decoded = link.removingPercentEncoding {
                    reached.insert(decoded)
                    #expect(url?.standardizedFileURL.path == "/out/" + decoded)
                }
            }
            #expect(reached == page.linked)
            // Ids are written whole (not cut to 32 bits), and long names can wrap in the table and captions.
            for item in page.gallery { #expect(html.contains("</bdi> #\(item.id)<br>")) }
            #expect(html.contains("td.data { text-align: left; overflow-wrap: anywhere; }") && html.contains("figcaption { overflow-wrap: anywhere; }"))
            #expect(Self.textOutsideBreakableCells(html).isEmpty, "\(Self.textOutsideBreakableCells(html).prefix(2))")
            for tag in ["table", "tr", "td", "a", "figure", "figcaption", "bdi", "p"] { #expect(HTMLReportTests.balanced(html, tag), "<\(tag)>") }
        }
    }

    @Test func linksNameTheFileWhateverItsName() {
        for name in ["a#b.jpg", "a?b.jpg", "100%.jpg", "a b.jpg", "q\"'.jpg", "c:x.jpg", "%41.jpg", "é.jpg"] {
            let overlay = overlayFileNames(for: ["in/" + name])[0]
            let link = urlPath(overlay)
            #expect(link.removingPercentEncoding == overlay, "\(name)")
            #expect(URL(string: link, relativeTo: URL(fileURLWithPath: "/out/report.html"))?.path == "/out/" + overlay, "\(name)")
        }
        #expect(urlPath("overlays/a#b c%.png") == "overlays/a%23b%20c%25.png")
        #expect(grouped(.infinity) == "inf" && grouped(.nan) == "nan" && grouped(1e300) == "1e+300")
        #expect(grouped(5e6) == "5\u{202F}000\u{202F}000" && grouped(-1234) == "-1\u{202F}234")
    }
}

/// validate's text table, validation.json and validation.csv with hostile image names.
@Suite struct ValidationReportPropertyTests {
    static let reports = Generator<ValidationReport, Shrink.None<ValidationReport>> { rng in
        let fields = (0..<Int.random(in: 1...6, using: &rng)).map { _ in
            var f = FieldValidation(image: Hostile.name(&rng))
            f.annotated = Int.random(in: 0...5000, using: &rng)
            f.detected = Int.random(in: 0...5000, using: &rng)
            f.matched = Int.random(in: 0...min(f.annotated, f.detected), using: &rng)
            return f
        }
        return ValidationReport(version: "test", summary: ValidationSummary(fields: fields), failures: [])
    }

    /// The number columns after the image name: annotated, detected, matched, recall, precision, ratio.
    static let numberColumns = 11 + 10 + 9 + 8 + 11 + 7

    /// `s` with control characters shown as "?".
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0 }))
    }

    @Test func eachImageIsOneAlignedRowOfPrintableText() async {
        await propertyCheck(count: 100, input: Self.reports) { report in
            let lines = report.text(perImage: true).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(!lines.contains { $0.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } })
            guard lines.count > report.images.count + 1 else {
                Issue.record("\(lines.count) lines for \(report.images.count) images")
                return
            }
            #expect(lines[report.images.count + 1].isEmpty)
            for (row, image) in zip(lines[1...report.images.count], report.images) {
                let scalars = Array(row.unicodeScalars)
                let numbers = String(String.UnicodeScalarView(scalars.suffix(Self.numberColumns)))
                #expect(numbers.split(separator: " ").first == Substring(String(image.annotated)), "\(row.debugDescription)")
                // The name column: the name or its abbreviation (at most 40 characters), then spaces.
                let column = Array(scalars.dropLast(Self.numberColumns))
                let spaces = column.reversed().prefix { $0 == " " }.count
                let shown = (0...spaces).map { String(String.UnicodeScalarView(column.dropLast($0))) }
                #expect(shown.contains { $0.count <= 40 && LegendLayoutPropertyTests.isAbbreviation($0, of: Self.printable(image.image)) },
                        "\(row.debugDescription)")
            }
        }
    }

    /// The image names of validation.json.
    struct Names: Decodable {
        struct Image: Decodable { var image: String }
        var images: [Image]
    }

    @Test func jsonAndCSVGiveBackEveryName() async {
        await propertyCheck(count: 100, input: Self.reports) { report in
            // JSONDecoder, not JSONSerialization, which drops a U+FEFF at the start of a string.
            let decoded = try JSONDecoder().decode(Names.self, from: report.json())
            #expect(decoded.images.map(\.image) == report.images.map(\.image))
            let rows = CSVTable.parse(report.csv())
            #expect(rows.dropFirst().prefix(report.images.count).map { $0.first } == report.images.map(\.image))
        }
    }

    @Test func namesWhoseQuoteCommaOrLineEndIsPartOfALongerCharacterKeepTheirRow() {
        // "\r\n" is one Character, as is a quote or comma followed by a combining mark.
        func row(_ name: String) -> [String] {
            var field = FieldValidation(image: name)
            field.annotated = 1
            return CSVTable.parse(ValidationReport(version: "test", summary: ValidationSummary(fields: [field]), failures: []).csv())[1]
        }
        for name in ["a\r\nb.jpg", "q\"\u{301}.jpg", "a,\u{301}b.jpg"] {
            #expect(row(name) == [name] + row("plain.jpg").dropFirst(), "\(name.debugDescription)")
        }
    }
}
