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
    /// object id, tint the inside of those cells with their Grad-CAM map (values 0–1, the cell's
    /// box size). Cost: one copy of the image plus O(object pixels).
    public static func render(_ field: RGBImage, name: String, segmentation: SegmentationResult,
                              calls: [Int: CellCall] = [:], heatmaps: [Int: [Float]] = [:]) -> RGBImage {
        let scale = max(1, min(field.width, field.height) / 480)
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
            let label = String(object.id)
            let tw = BitmapFont.width(of: label, scale: 1)
            BitmapFont.draw(label, on: &canvas, x: Int(object.centroidX) - tw / 2, y: Int(object.centroidY) - 3,
                            scale: 1, color: (255, 255, 255), halo: (0, 0, 0))
            if let call = calls[object.id], call.parasitized {
                let text = String(format: "%.2f", call.pParasitized)
                let pw = BitmapFont.width(of: text, scale: scale)
                BitmapFont.draw(text, on: &canvas, x: Int(object.centroidX) - pw / 2, y: object.y + object.height + 2,
                                scale: scale, color: parasitizedColor, halo: (255, 255, 255))
            }
        }
        let counted = segmentation.count(.counted)
        var legend: [(String, Color?)] = [(name + "  ", nil)]
        if calls.isEmpty {
            legend.append(("counted \(counted)", color(of: .counted)))
        } else {
            let parasitized = calls.values.filter(\.parasitized).count
            let percent = counted > 0 ? 100 * Double(parasitized) / Double(counted) : 0
            legend.append(("uninfected \(counted - parasitized)", color(of: .counted)))
            legend.append((String(format: "parasitized %d (%.2f%% of %d)", parasitized, percent, counted), parasitizedColor))
        }
        for status in ObjectStatus.allCases where status != .counted {
            legend.append(("\(status.rawValue) \(segmentation.count(status))", color(of: status)))
        }
        return addLegend(legend, above: canvas, scale: scale)
    }

    /// Blends a heat colour (blue → green → yellow → red) into the object's pixels, weighted by the
    /// heat (0–1) at each pixel of its box.
    static func tint(_ object: DetectedObject, heat: [Float], on image: inout RGBImage) {
        guard heat.count == object.width * object.height else { return }
        for my in 0..<object.height {
            for mx in 0..<object.width where object.mask.bits[my * object.width + mx] != 0 {
                let t = max(0, min(1, heat[my * object.width + mx]))
                let c = (min(max(1.5 - abs(4 * t - 3), 0), 1), min(max(1.5 - abs(4 * t - 2), 0), 1), min(max(1.5 - abs(4 * t - 1), 0), 1))
                let alpha = 0.55 * t
                let px = object.x + mx, py = object.y + my
                let old = image[px, py]
                image[px, py] = (UInt8(alpha * 255 * c.0 + (1 - alpha) * Float(old.r)),
                                 UInt8(alpha * 255 * c.1 + (1 - alpha) * Float(old.g)),
                                 UInt8(alpha * 255 * c.2 + (1 - alpha) * Float(old.b)))
            }
        }
    }

    /// Sets the object's boundary pixels (mask pixels within `thickness` of the outside, 4-connected
    /// steps) to `color`; `dotted` skips every other pixel along diagonals (x + y odd).
    public static func drawOutline(_ object: DetectedObject, on image: inout RGBImage, color: Color, thickness: Int,
                                   dotted: Bool = false) {
        let w = object.width, h = object.height
        let mask = object.mask.bits
        @inline(__always) func inside(_ x: Int, _ y: Int) -> Bool {
            x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] != 0
        }
        for my in 0..<h {
            for mx in 0..<w where mask[my * w + mx] != 0 {
                var edge = false
                search: for d in 1...max(1, thickness) {
                    if !inside(mx - d, my) || !inside(mx + d, my) || !inside(mx, my - d) || !inside(mx, my + d) {
                        edge = true
                        break search
                    }
                }
                if edge && (!dotted || (mx + my) % 4 < 2) {
                    let px = object.x + mx, py = object.y + my
                    if px < image.width && py < image.height { image[px, py] = (color.0, color.1, color.2) }
                }
            }
        }
    }

    /// A new image: a dark band with the legend entries (text, optional colour swatch) above `image`.
    static func addLegend(_ entries: [(String, Color?)], above image: RGBImage, scale: Int) -> RGBImage {
        let pad = 4 * scale
        let band = BitmapFont.glyphHeight * scale + 2 * pad
        var out = RGBImage(width: image.width, height: image.height + band, fill: (32, 32, 32))
        out.pixels.replaceSubrange((band * image.width * 3)..., with: image.pixels)
        var x = pad
        for (text, swatch) in entries {
            if let swatch {
                for py in pad..<(band - pad) {
                    for px in x..<min(out.width, x + BitmapFont.glyphHeight * scale) { out[px, py] = (swatch.0, swatch.1, swatch.2) }
                }
                x += BitmapFont.glyphHeight * scale + 2 * scale
            }
            BitmapFont.draw(text, on: &out, x: x, y: pad, scale: scale, color: (240, 240, 240))
            x += BitmapFont.width(of: text, scale: scale) + 4 * pad
        }
        return out
    }
}
