import Foundation

/// `report.html`: one page, no scripts from elsewhere and nothing fetched from the network, for a
/// microscopist to check the count by eye. Images (overlays, cell pictures) sit beside it in the
/// output folder and are linked relatively, their paths percent-encoded (`urlPath`).
///
/// Text from the input (file names, sample names, errors, the model's path) is escaped (`escape`)
/// and sits in cells of class `data` or in captions, which may break anywhere, so no name of any
/// length or script can add markup or widen the tables beyond the page; in captions a name is
/// isolated (`<bdi>`) so that right-to-left text or a direction override in it cannot reorder the
/// cell's id shown after it.
///
/// Sections: the summary (per sample: cells counted, parasitized, parasitemia with its Wilson 95%
/// interval, parasites/µL, whether the target count was reached); the slides (each with its figures,
/// its zoomable overlay (`SlideViewer`), its quality map, whose tiles open in the viewer when clicked,
/// and a sample of its cells called parasitized, each opening its place in the viewer); the fields (a
/// table with each overlay as a thumbnail that opens full size); the gallery of every cell of a field
/// called parasitized (its picture, probability, field and id, linking to the field's overlay);
/// failures; settings. The viewer's script is the page's only script, there only when a slide is.
public struct HTMLReport {
    public var report: AnalysisReport
    public var gallery: [ParasitizedGallery.Item]
    /// Each slide's viewer, by slide path (`AnalysisReport.Slide.file`).
    public var viewers: [String: SlideViewer]
    /// How many cells each slide's counted tiles had called parasitized, by slide key (the gallery shows
    /// a sample of them).
    public var slideParasitized: [String: Int]

    public init(report: AnalysisReport, gallery: [ParasitizedGallery.Item], viewers: [String: SlideViewer] = [:],
                slideParasitized: [String: Int] = [:]) {
        self.report = report
        self.gallery = gallery
        self.viewers = viewers
        self.slideParasitized = slideParasitized
    }

    public func html() -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>smear report</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; max-width: 1200px; }
        h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
        h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; }
        td.data { text-align: left; overflow-wrap: anywhere; }
        figcaption { overflow-wrap: anywhere; }
        th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e4e4e4; text-align: right; vertical-align: middle; }
        th:first-child, td:first-child { text-align: left; }
        .big { font-size: 1.6rem; font-weight: 600; }
        .warn { color: #a40000; font-weight: 600; }
        .note { color: #555; font-size: 0.9rem; }
        img.thumb { width: 240px; border: 1px solid #ccc; }
        img.map { max-width: 100%; image-rendering: pixelated; border: 1px solid #ccc; }
        .swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #999; vertical-align: middle; }
        .gallery { display: flex; flex-wrap: wrap; gap: 0.6rem; }
        figure.cell { margin: 0; width: 130px; text-align: center; font-size: 0.8rem; }
        figure.cell img { width: 120px; height: 120px; object-fit: contain; background: #000; border: 2px solid #d22; }
        \(viewers.isEmpty ? "" : SlideViewer.style)</style>
        </head>
        <body>
        <h1>smear report</h1>
        <p class="note">\(escape(report.tool.name)) \(escape(report.tool.version)) · \(report.countedIn) analysed\(report.failures.isEmpty ? "" : ", \(report.failures.count) failed")</p>

        """
        h += summarySection()
        h += slidesSection()
        h += fieldsSection()
        h += gallerySection()
        if !report.failures.isEmpty {
            h += "<h2 id=\"failures\">Not counted</h2>\n<p class=\"note\">Inputs that could not be read, and fields that failed quality control (a figure that cannot be trusted is not counted; README.md lists the rules).</p>\n"
            h += "<table>\n<tr><th>File</th><th>Reason</th><th>Overlay</th></tr>\n"
            for f in report.failures {
                h += "<tr><td class=\"data\">\(escape(f.file))</td><td class=\"data\">\(escape(f.error))</td>"
                if let overlay = f.overlay {
                    h += "<td><a href=\"\(urlPath(overlay))\"><img class=\"thumb\" src=\"\(urlPath(overlay))\" alt=\"overlay of \(escape(f.file))\" loading=\"lazy\"></a></td>"
                } else {
                    h += "<td>–</td>"
                }
                h += "</tr>\n"
            }
            h += "</table>\n"
        }
        h += settingsSection()
        if !viewers.isEmpty { h += SlideViewer.script }
        h += "</body>\n</html>\n"
        return h
    }

    func summarySection() -> String {
        var h = "<h2 id=\"summary\">Summary</h2>\n"
        if report.samples.isEmpty {
            let t = report.totals
            h += "<p><span class=\"big\">\(t.cellsCounted)</span> red cells counted in \(report.countedIn)"
            if let k = t.parasitized, let p = t.parasitemiaPercent, let ci = bounds(t.parasitemiaCi95Percent) {
                h += String(format: "; <span class=\"big\">%ld</span> parasitized: parasitemia <span class=\"big\">%.2f%%</span> (95%% CI %.2f–%.2f%%)", k, p, ci.lower, ci.upper)
            }
            h += ".</p>\n"
            if let a = t.adjustedParasitemiaPercent, let ci = bounds(t.adjustedParasitemiaCi95Percent) {
                h += String(format: "<p>Adjusted for the classifier's errors: parasitemia <b>%.2f%%</b> (95%% CI %.2f–%.2f%%).</p>\n", a, ci.lower, ci.upper)
                h += adjustmentNote()
            }
            if t.parasitized != nil && !report.images.isEmpty {
                h += "<p class=\"note\">These fields were analysed as a batch, not as one patient's sample; use --sample to count one slide to a target.</p>\n"
            }
            return h
        }
        let adjusted = report.settings.operatingPoint != nil && report.samples.contains { $0.adjustedParasitemiaPercent != nil }
        h += "<table>\n<tr><th>Sample</th><th>Fields used</th><th>Red cells</th><th>Parasitized</th><th>Parasitemia</th><th>95% CI</th>"
            + (adjusted ? "<th>Adjusted</th><th>95% CI</th>" : "") + "<th>Parasites/µL</th><th>95% CI</th></tr>\n"
        for s in report.samples {
            let ci = bounds(s.parasitemiaCi95Percent).map { String(format: "%.2f–%.2f%%", $0.lower, $0.upper) } ?? "–"
            let perCI = bounds(s.parasitesPerMicrolitreCi95).map { "\(grouped($0.lower))–\(grouped($0.upper))" } ?? "–"
            h += "<tr><td class=\"data\">\(escape(s.name))</td><td>\(s.fieldsUsed) of \(s.fieldsAvailable)</td><td>\(s.cellsCounted)"
            if !s.targetReached { h += " <span class=\"warn\">(target \(s.targetCells ?? 0) not reached)</span>" }
            h += "</td><td>\(s.parasitized.map(String.init) ?? "–")</td>"
            h += "<td><b>\(s.parasitemiaPercent.map { String(format: "%.2f%%", $0) } ?? "–")</b></td><td>\(ci)</td>"
            if adjusted {
                let aci = bounds(s.adjustedParasitemiaCi95Percent).map { String(format: "%.2f–%.2f%%", $0.lower, $0.upper) } ?? "–"
                h += "<td>\(s.adjustedParasitemiaPercent.map { String(format: "%.2f%%", $0) } ?? "–")</td><td>\(aci)</td>"
            }
            h += "<td><b>\(s.parasitesPerMicrolitre.map(grouped) ?? "–")</b></td><td>\(perCI)</td></tr>\n"
        }
        h += "</table>\n"
        h += String(format: "<p class=\"note\">Parasitemia = red cells called parasitized / red cells counted (cells cut by the border, leukocytes and debris are not counted). Parasites/µL assumes %@ red cells per µL. The interval is the Wilson score interval; it covers counting error only, not misclassification — check the gallery below.</p>\n",
                    grouped(report.settings.redCellsPerMicrolitre))
        if adjusted { h += adjustmentNote() }
        return h
    }

    /// What the adjusted parasitemia is and where its rates come from.
    func adjustmentNote() -> String {
        guard let o = report.settings.operatingPoint else { return "" }
        return String(format: "<p class=\"note\">Adjusted = (p + Sp − 1) / (Se + Sp − 1) (Rogan–Gladen), with the classifier's sensitivity Se = %.3f and specificity Sp = %.4f at this threshold, measured by %@. It removes the false positives expected at Sp (%.2f%% of uninfected cells) and adds back the parasitized cells expected to be missed; %@ The rates were measured on other smears: where a sample's stain or species differs, trust the raw count and the gallery.</p>\n",
                      o.sensitivity, o.specificity, escape(o.measuredOn), 100 * (1 - o.specificity),
                      o.positives.map { "the interval is the Wilson interval corrected the same way, widened by the uncertainty of Se and Sp (measured on \($0) and \(o.negatives ?? 0) cells)." }
                          ?? "the interval is the Wilson interval corrected the same way, taking Se and Sp as exact.")
    }

    /// Each slide: its count over the tiles fit for counting, the quality map of its tiles with a
    /// legend of the reasons others were not counted, and its files.
    func slidesSection() -> String {
        guard !report.slides.isEmpty else { return "" }
        var h = "<h2 id=\"slides\">Slides</h2>\n"
        for s in report.slides {
            h += "<h3 class=\"data\">\(escape(s.name))</h3>\n<table>\n"
            h += "<tr><td>Size</td><td>\(s.width) × \(s.height) px" + (s.micronsPerPixel.map { String(format: ", %.4f µm/px", $0) } ?? ", pixel size unknown") + "</td></tr>\n"
            h += "<tr><td>Cell diameter</td><td>" + String(format: "%.1f px (%@", s.cellDiameter, escape(s.cellDiameterSource))
                + (s.cellDiameterFromPixelSize.map { String(format: "; 7.5 µm is %.1f px", $0) } ?? "") + ")</td></tr>\n"
            h += "<tr><td>Tiles</td><td>\(s.tilesCounted) counted of \(s.tilesAnalysed) analysed (\(s.tilesTotal) in all, \(s.tileSize) px with \(s.tileMargin) px overlap)</td></tr>\n"
            h += "<tr><td>Area counted</td><td>" + (s.countedAreaMm2.map { String(format: "%.3f mm²", $0) } ?? "\(grouped(Double(s.countedAreaPixels))) px²") + "</td></tr>\n"
            h += "<tr><td>Red cells counted</td><td><b>\(s.cellsCounted)</b>"
            if !s.targetReached { h += " <span class=\"warn\">(target \(s.targetCells ?? 0) not reached)</span>" }
            h += "</td></tr>\n"
            if let p = s.parasitemiaPercent, let ci = bounds(s.parasitemiaCi95Percent) {
                h += String(format: "<tr><td>Parasitemia</td><td><b>%.2f%%</b> (95%% CI %.2f–%.2f%%), %ld parasitized</td></tr>\n", p, ci.lower, ci.upper, s.parasitized ?? 0)
            }
            if let a = s.adjustedParasitemiaPercent, let ci = bounds(s.adjustedParasitemiaCi95Percent) {
                h += String(format: "<tr><td>Adjusted for the classifier's errors</td><td>%.2f%% (95%% CI %.2f–%.2f%%)</td></tr>\n", a, ci.lower, ci.upper)
            }
            if let perUL = s.parasitesPerMicrolitre, let ci = bounds(s.parasitesPerMicrolitreCi95) {
                h += "<tr><td>Parasites/µL</td><td><b>\(grouped(perUL))</b> (\(grouped(ci.lower))–\(grouped(ci.upper)))</td></tr>\n"
            }
            h += "</table>\n"
            let viewer = viewers[s.file]
            if let viewer {
                h += "<h4>Overlay</h4>\n" + viewer.html(name: s.name)
                h += "<p class=\"note\">Every object outlined as on a field's overlay; tiles not counted tinted by their reason, tiles not analysed grey. Drag to pan, wheel, pinch or + / − to zoom, 0 or fit for the whole slide; the address (#slide=…&amp;x=…&amp;y=…&amp;z=…) keeps the view. "
                    + "The same overlay at full resolution: <a href=\"\(urlPath(viewer.tiff))\">\(escape(viewer.tiff))</a>, a pyramidal tiled BigTIFF that QuPath and OpenSlide open; it lines up with the slide and its GeoJSON.</p>\n"
            }
            if let map = s.qualityMap {
                h += "<h4>Quality map</h4>\n<p><img class=\"map\" src=\"\(urlPath(map))\" alt=\"quality map of \(escape(s.name))\""
                if let viewer {
                    h += " data-slide=\"\(escape(viewer.key))\" data-core=\"\(viewer.coreSize)\" data-columns=\"\(viewer.columns)\" data-rows=\"\(viewer.rows)\" title=\"click a tile to see it in the overlay\""
                }
                h += "></p>\n"
            }
            var legend = ["<span class=\"swatch\" style=\"background:rgb(40,170,80)\"></span> counted \(s.tilesCounted)"]
            for (reason, n) in s.tilesNotCounted.sorted(by: { $0.key < $1.key }) {
                let c = SlideOutputs.color(of: reason)
                legend.append("<span class=\"swatch\" style=\"background:rgb(\(c.0),\(c.1),\(c.2))\"></span> \(escape(reason)) \(n)")
            }
            if s.tilesAnalysed < s.tilesTotal {
                legend.append("<span class=\"swatch\" style=\"background:rgb(225,225,225)\"></span> not analysed (target reached) \(s.tilesTotal - s.tilesAnalysed)")
            }
            h += "<p class=\"note\">" + legend.joined(separator: " · ") + "</p>\n"
            if let geojson = s.geojson {
                h += "<p class=\"note\">Every object is in cells.csv (slide pixels) and in <a href=\"\(urlPath(geojson))\">\(escape(geojson))</a>, which QuPath opens on top of the slide (File › Import objects).</p>\n"
            }
            if let viewer, s.parasitized != nil { h += slideGallery(viewer, name: s.name) }
        }
        return h
    }

    /// A slide's sample of cells called parasitized, each linking to its place in the viewer.
    func slideGallery(_ viewer: SlideViewer, name: String) -> String {
        let items = gallery.filter { $0.slide == viewer.key }.sorted { $0.id < $1.id }
        let total = slideParasitized[viewer.key] ?? items.count
        var h = "<h4>Cells called parasitized (\(items.count == total ? "\(total)" : "\(items.count) of \(total), a random sample"))</h4>\n"
        guard !items.isEmpty else { return h + "<p>No cell of a counted tile was called parasitized.</p>\n" }
        h += "<p class=\"note\">Each picture shows the cell outlined in red with its surroundings. Click it to see the cell in the overlay above, where it carries the same id.</p>\n<div class=\"gallery\">\n"
        for item in items {
            h += "<figure class=\"cell\"><a href=\"\(escape(SlideViewer.link(key: viewer.key, x: item.centroidX, y: item.centroidY, zoom: 1)))\">"
            h += "<img src=\"\(urlPath(item.picture))\" alt=\"cell \(item.id) of \(escape(name))\" loading=\"lazy\"></a>"
            h += String(format: "<figcaption>p = %.2f<br>#%ld<br>(%.0f, %.0f)</figcaption></figure>\n", item.pParasitized, item.id, item.centroidX, item.centroidY)
        }
        return h + "</div>\n"
    }

    func fieldsSection() -> String {
        if report.images.isEmpty && !report.slides.isEmpty { return "" }
        var h = "<h2 id=\"fields\">Fields</h2>\n<table>\n<tr><th>Field</th>"
        if !report.samples.isEmpty { h += "<th>Sample</th>" }
        h += "<th>Red cells</th><th>Parasitized</th><th>Parasitemia</th><th>Not counted</th><th>Overlay</th></tr>\n"
        for image in report.images {
            let name = (image.file as NSString).lastPathComponent
            h += "<tr id=\"field-\(escape(anchor(name)))\"><td class=\"data\">\(escape(name))</td>"
            if !report.samples.isEmpty { h += "<td class=\"data\">\(escape(image.sample ?? ""))</td>" }
            let excluded = image.excluded.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            h += "<td>\(image.cellsCounted)</td><td>\(image.parasitized.map(String.init) ?? "–")</td>"
            h += "<td>\(image.parasitemiaPercent.map { String(format: "%.2f%%", $0) } ?? "–")</td><td>\(escape(excluded.isEmpty ? "–" : excluded))</td>"
            if let overlay = image.overlay {
                h += "<td><a href=\"\(urlPath(overlay))\"><img class=\"thumb\" src=\"\(urlPath(overlay))\" alt=\"overlay of \(escape(name))\" loading=\"lazy\"></a></td>"
            } else {
                h += "<td>–</td>"
            }
            h += "</tr>\n"
        }
        return h + "</table>\n"
    }

    func gallerySection() -> String {
        guard report.totals.parasitized != nil, !report.images.isEmpty || report.slides.isEmpty else { return "" }
        let gallery = self.gallery.filter { $0.slide == nil }
        var h = "<h2 id=\"parasitized\">Cells called parasitized (\(gallery.count))</h2>\n"
        guard !gallery.isEmpty else { return h + "<p>No cell was called parasitized.</p>\n" }
        h += "<p class=\"note\">Each picture shows the cell outlined in red with its surroundings. Click it to open the field's overlay, where the cell carries the same id.</p>\n<div class=\"gallery\">\n"
        for item in gallery {
            h += "<figure class=\"cell\"><a href=\"\(urlPath(item.overlay))\"><img src=\"\(urlPath(item.picture))\" alt=\"cell \(item.id) of \(escape(item.field))\" loading=\"lazy\"></a>"
            h += String(format: "<figcaption>p = %.2f<br><bdi>%@</bdi> #%ld<br>(%.0f, %.0f)</figcaption></figure>\n",
                        item.pParasitized, escape(item.field), item.id, item.centroidX, item.centroidY)
        }
        return h + "</div>\n"
    }

    func settingsSection() -> String {
        let s = report.settings
        var h = "<h2 id=\"settings\">Settings</h2>\n<table>\n"
        h += "<tr><td>Classifier</td><td class=\"data\">\(escape(s.model ?? "none (cells counted only)"))</td></tr>\n"
        if let t = s.threshold { h += String(format: "<tr><td>Decision threshold</td><td>%.3f</td></tr>\n", t) }
        if let n = s.symmetries { h += "<tr><td>Test-time symmetries</td><td>\(n == 1 ? "none (each cell seen once)" : "\(n) (each cell's probability averaged over \(n) flips and rotations)")</td></tr>\n" }
        if let o = s.operatingPoint {
            h += String(format: "<tr><td>Classifier error rates</td><td>sensitivity %.3f, specificity %.4f (%@)</td></tr>\n", o.sensitivity, o.specificity, escape(o.measuredOn))
        }
        h += "<tr><td>Cell diameter</td><td>\(s.cellDiameter.map { String(format: "%.1f px", $0) } ?? (report.slides.isEmpty ? "estimated per field" : "estimated per field or slide"))</td></tr>\n"
        if let target = s.targetCells { h += "<tr><td>Target count per sample</td><td>\(target) red cells</td></tr>\n" }
        h += "<tr><td>Red cells per µL</td><td>\(grouped(s.redCellsPerMicrolitre))</td></tr>\n"
        return h + "</table>\n"
    }
}

/// Escapes text for HTML content and attribute values: `& < > " '` as entities, and control
/// characters other than tab, line feed and carriage return (NUL, escape sequences, C1 controls),
/// which HTML does not allow, as U+FFFD "�". Cost: O(length).
func escape(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        case _ where scalar.isControl: out += "\u{FFFD}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// A relative file path as a URL path for `href` and `src`: every UTF-8 byte other than ASCII
/// letters, digits, `-._~` and the "/" separators is percent-encoded, so a file name with "#", "?",
/// "%", spaces, quotes or ":" still names that file (and never starts a fragment, a query or a
/// scheme). The result needs no further HTML escaping.
func urlPath(_ path: String) -> String {
    var out = ""
    for byte in path.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count < 2 ? "0" : "") + hex
        }
    }
    return out
}

/// An id-safe version of a file name.
func anchor(_ s: String) -> String { String(s.map { $0.isLetter || $0.isNumber ? $0 : "-" }) }

/// The lower and upper bound of an interval given as a two-element array; nil for any other array.
func bounds(_ interval: [Double]?) -> (lower: Double, upper: Double)? {
    guard let interval, interval.count == 2 else { return nil }
    return (interval[0], interval[1])
}

/// An integer with narrow no-break spaces between thousands ("5 000 000", never broken across lines);
/// values that are not finite or too large for an integer (over 9.2 × 10¹⁸) in scientific notation.
func grouped(_ v: Double) -> String {
    let r = v.rounded()
    guard r.isFinite, abs(r) < 0x1p63 else { return String(format: "%.3g", v) }
    let digits = String(Int(r))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append("\u{202F}") }
        out.append(c)
    }
    return String(out.reversed())
}
