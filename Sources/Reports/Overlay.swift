import ImageCodecs
import Pipeline
import Segmentation

/// Draws a field's detections for a person to audit the count: counted cells outlined (parasitized
/// ones boldly in red with their probability, uninfected ones thinly in green), objects that are not
/// counted dotted in the colour of their reason, every object's id, and a header band with the
/// field's counts.
public enum Overlay {
    public typealias Color = (UInt8, UInt8, UInt8)

    public static let parasitizedColor: Color = (255, 30, 30)

    /// Outline colour of each status (counted cells: the uninfected green).
    public static func color(of status: ObjectStatus) -> Color {
        switch status {
        case .counted: return (0, 220, 60)
        case .border: return (70, 110, 255)
        case .leukocyte: return (255, 150, 0)
        case .debris: return (150, 150, 150)
        }
    }

    /// The annotated field: the input with outlines and ids, plus a header band above it.
    /// `calls` are the classifier's calls by object id (empty: no classifier ran); `heatmaps`, by
    /// object id, tint the inside of those cells with their Grad-CAM map (values 0–1, one per mask
    /// pixel). Any objects are accepted: parts outside the image are not drawn, labels at a NaN
    /// centroid are left out. Cost: one copy of the image plus O(object pixels inside the image +
    /// label pixels).
    public static func render(_ field: RGBImage, name: String, segmentation: SegmentationResult,
                              calls: [Int: CellCall] = [:], heatmaps: [Int: [Float]] = [:], notice: String? = nil) -> RGBImage {
        let scale = drawingScale(of: field)
        var canvas = field
        for object in segmentation.objects {
            if let heat = heatmaps[object.id] { tint(object, heat: heat, on: &canvas) }
            let call = calls[object.id]
            switch (object.status, call?.parasitized) {
            case (.counted, true?): drawOutline(object, on: &canvas, color: parasitizedColor, thickness: 3 * scale)
            case (.counted, _): drawOutline(object, on: &canvas, color: color(of: .counted), thickness: calls.isEmpty ? scale : 1)
            default: drawOutline(object, on: &canvas, color: color(of: object.status), thickness: 1, dotted: true)
            }
        }
        for object in segmentation.objects {
            drawLabels(of: object, call: calls[object.id], on: &canvas, scale: scale)
        }
        var entries = legend(name: name, segmentation: segmentation, calls: calls)
        if let notice { entries.insert((notice, parasitizedColor), at: 1) }
        return addLegend(entries, above: canvas, scale: scale)
    }

    /// The header's entries: the file name, then the field's counts, each with its colour.
    static func legend(name: String, segmentation: SegmentationResult, calls: [Int: CellCall]) -> [LegendEntry] {
        let counted = segmentation.count(.counted)
        var legend: [LegendEntry] = [(name, nil)]
        if calls.isEmpty {
            legend.append(("counted \(counted)", color(of: .counted)))
        } else {
            let parasitized = calls.values.filter(\.parasitized).count
            let percent = counted > 0 ? 100 * Double(parasitized) / Double(counted) : 0
            legend.append(("uninfected \(counted - parasitized)", color(of: .counted)))
            legend.append((String(format: "parasitized %ld (%.2f%% of %ld)", parasitized, percent, counted), parasitizedColor))
        }
        for status in ObjectStatus.allCases where status != .counted {
            legend.append(("\(status.rawValue) \(segmentation.count(status))", color(of: status)))
        }
        return legend
    }

    /// Text and line scale of a field's drawing: 1 below 960 px on the short side, 2 below 1440 px, …
    static func drawingScale(of field: RGBImage) -> Int { max(1, min(field.width, field.height) / 480) }

    /// The object's id in white at its centroid and, for a cell called parasitized, its probability
    /// under its box. Nothing for a NaN centroid.
    static func drawLabels(of object: DetectedObject, call: CellCall?, on canvas: inout RGBImage, scale: Int) {
        guard let cx = PixelGeometry.coordinate(object.centroidX), let cy = PixelGeometry.coordinate(object.centroidY) else { return }
        let label = String(object.id)
        BitmapFont.draw(label, on: &canvas, x: cx - BitmapFont.width(of: label, scale: 1) / 2, y: cy - 3,
                        scale: 1, color: (255, 255, 255), halo: (0, 0, 0))
        guard let call, call.parasitized, let mask = MaskPlacement(object) else { return }
        let text = String(format: "%.2f", call.pParasitized)
        BitmapFont.draw(text, on: &canvas, x: cx - BitmapFont.width(of: text, scale: scale) / 2, y: mask.y + mask.height + 2,
                        scale: scale, color: parasitizedColor, halo: (255, 255, 255))
    }

    /// Blends a heat colour (blue → green → yellow → red) into the object's pixels, weighted by the
    /// heat (0–1, clamped; NaN counts as 0) at each mask pixel. Nothing when `heat` does not have one
    /// value per mask pixel.
    static func tint(_ object: DetectedObject, heat: [Float], on image: inout RGBImage) {
        guard let mask = MaskPlacement(object), heat.count == mask.bits.count else { return }
        for my in mask.visibleRows(imageHeight: image.height) {
            for mx in mask.visibleColumns(imageWidth: image.width) where mask.bits[my * mask.width + mx] != 0 {
                let h = heat[my * mask.width + mx]
                let t = h.isNaN ? 0 : max(0, min(1, h))
                let c = (min(max(1.5 - abs(4 * t - 3), 0), 1), min(max(1.5 - abs(4 * t - 2), 0), 1), min(max(1.5 - abs(4 * t - 1), 0), 1))
                let alpha = 0.55 * t
                let px = mask.x + mx, py = mask.y + my
                let old = image[px, py]
                image[px, py] = (channel(alpha * 255 * c.0 + (1 - alpha) * Float(old.r)),
                                 channel(alpha * 255 * c.1 + (1 - alpha) * Float(old.g)),
                                 channel(alpha * 255 * c.2 + (1 - alpha) * Float(old.b)))
            }
        }
    }

    /// A colour value, clamped to 0–255 and truncated.
    static func channel(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v))) }

    /// Sets the object's boundary pixels (mask pixels within `thickness` of the outside, 4-connected
    /// steps) to `color`; `dotted` skips every other pixel along diagonals (x + y odd). Only the part of
    /// the mask inside the image is visited. Cost: O(visible mask pixels · thickness).
    public static func drawOutline(_ object: DetectedObject, on image: inout RGBImage, color: Color, thickness: Int,
                                   dotted: Bool = false) {
        guard let mask = MaskPlacement(object) else { return }
        let w = mask.width, h = mask.height, bits = mask.bits
        @inline(__always) func inside(_ x: Int, _ y: Int) -> Bool {
            x >= 0 && y >= 0 && x < w && y < h && bits[y * w + x] != 0
        }
        // Beyond the mask's larger side every pixel is an edge pixel: larger thicknesses change nothing.
        let reach = max(1, min(thickness, max(w, h)))
        for my in mask.visibleRows(imageHeight: image.height) {
            for mx in mask.visibleColumns(imageWidth: image.width) where bits[my * w + mx] != 0 {
                var edge = false
                search: for d in 1...reach {
                    if !inside(mx - d, my) || !inside(mx + d, my) || !inside(mx, my - d) || !inside(mx, my + d) {
                        edge = true
                        break search
                    }
                }
                if edge && (!dotted || (mx + my) % 4 < 2) { image[mask.x + mx, mask.y + my] = (color.0, color.1, color.2) }
            }
        }
    }

    /// A legend entry: its text and, for a count, the colour it is drawn in.
    typealias LegendEntry = (text: String, swatch: Color?)

    /// Colour of the header band and of its text.
    static let bandColor: Color = (32, 32, 32)
    static let legendTextColor: Color = (240, 240, 240)

    /// The legend's entries placed in a header band `width` pixels wide.
    struct LegendLayout {
        /// A piece of entry number `entry` as drawn: its swatch (a square as high as the text) if any,
        /// then its text, the whole `width` pixels wide with its top-left corner at (x, y) in the band.
        struct Item {
            var entry: Int
            var text: String
            var swatch: Color?
            var x: Int
            var y: Int
            var width: Int
        }
        var items: [Item]
        /// Height of the band.
        var height: Int
    }

    /// Lays the entries out left to right in lines that fit `width`, starting a new line when an entry
    /// does not fit on the current one; the band grows by a line each time (15 px for one line at scale
    /// 1, 11 px more per line). An entry wider than a whole line starts a line and is broken at its
    /// spaces over as many as it needs ("parasitized 4" / "(2.68% of 149)"); a word wider than a line
    /// is abbreviated in the middle ("PA1716…0001.JPG"). In a band too narrow for a swatch and a glyph
    /// the swatch is left out, and text too narrow for one glyph is dropped (an image narrower than one
    /// glyph shows an empty band). Every item lies inside the band.
    /// Cost: O(total length of the entries · words per line).
    static func layoutLegend(_ entries: [LegendEntry], width: Int, scale: Int) -> LegendLayout {
        let s = BitmapFont.clampedScale(scale)
        let textHeight = BitmapFont.glyphHeight * s, pad = 4 * s
        let side = min(pad, max(0, (width - BitmapFont.glyphWidth * s) / 2))
        let room = max(0, width - 2 * side)
        let entryGap = 4 * pad, lineGap = pad, swatchWidth = textHeight + 2 * s
        var items: [LegendLayout.Item] = []
        var line = 0, x = 0
        for (index, entry) in entries.enumerated() {
            let swatch = swatchWidth + BitmapFont.glyphWidth * s <= room ? entry.swatch : nil
            let swatchRoom = swatch == nil ? 0 : swatchWidth
            let pieces = swatchRoom + BitmapFont.width(of: entry.text, scale: s) <= room
                ? [entry.text] : wrapped(entry.text, first: room - swatchRoom, rest: room, scale: s)
            for (k, piece) in pieces.enumerated() {
                let pieceSwatch = k == 0 ? swatch : nil
                guard pieceSwatch != nil || !piece.isEmpty else { continue }
                let w = (pieceSwatch == nil ? 0 : swatchWidth) + BitmapFont.width(of: piece, scale: s)
                if x > 0 && (pieces.count > 1 || x + entryGap + w > room) {
                    line += 1
                    x = 0
                } else if x > 0 {
                    x += entryGap
                }
                items.append(.init(entry: index, text: piece, swatch: pieceSwatch, x: side + x, y: pad + line * (textHeight + lineGap), width: w))
                x += w
            }
        }
        return LegendLayout(items: items, height: 2 * pad + textHeight + line * (textHeight + lineGap))
    }

    /// The words of `text` (runs of spaces separate them and are dropped) in lines of at most `first`
    /// pixels (the first line) and `rest` (the others) at `scale`, as many words on each as fit; a word
    /// wider than its line alone is abbreviated in the middle to fit.
    static func wrapped(_ text: String, first: Int, rest: Int, scale s: Int) -> [String] {
        var lines: [String] = []
        var current: String?
        for word in text.split(separator: " ").map(String.init) {
            if let line = current {
                let longer = line + " " + word
                if BitmapFont.width(of: longer, scale: s) <= (lines.isEmpty ? first : rest) {
                    current = longer
                    continue
                }
                lines.append(line)
            }
            current = BitmapFont.abbreviated(word, toWidth: lines.isEmpty ? first : rest, scale: s)
        }
        if let current { lines.append(current) }
        return lines
    }

    /// A new image: a dark band with the legend entries (text, optional colour swatch) above `image`.
    /// Cost: the band's pixels plus one copy of the image.
    static func addLegend(_ entries: [LegendEntry], above image: RGBImage, scale: Int) -> RGBImage {
        let s = BitmapFont.clampedScale(scale)
        let layout = layoutLegend(entries, width: image.width, scale: s)
        var band = RGBImage(width: image.width, height: layout.height, fill: bandColor)
        let textHeight = BitmapFont.glyphHeight * s
        for item in layout.items {
            var x = item.x
            if let swatch = item.swatch {
                PixelGeometry.fill(&band, x0: x, y0: item.y, x1: x + textHeight, y1: item.y + textHeight, color: swatch)
                x += textHeight + 2 * s
            }
            BitmapFont.draw(item.text, on: &band, x: x, y: item.y, scale: s, color: legendTextColor)
        }
        return RGBImage(width: image.width, height: layout.height + image.height, pixels: band.pixels + image.pixels)
    }
}
