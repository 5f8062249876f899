import ImageCodecs
import Segmentation

/// Draws a field's detections for a person to check: every object outlined in the colour of its
/// status, its id beside it, and a legend band on top with the field's counts.
public enum Overlay {
    public typealias Color = (UInt8, UInt8, UInt8)

    /// Outline colour of each status.
    public static func color(of status: ObjectStatus) -> Color {
        switch status {
        case .counted: return (0, 220, 60)
        case .border: return (70, 110, 255)
        case .leukocyte: return (255, 150, 0)
        case .debris: return (150, 150, 150)
        }
    }

    /// The annotated field: the input with outlines and ids, plus a legend band above it.
    /// Cost: one copy of the image plus O(object pixels).
    public static func render(_ field: RGBImage, name: String, segmentation: SegmentationResult) -> RGBImage {
        let scale = max(1, min(field.width, field.height) / 480)
        var canvas = field
        for object in segmentation.objects {
            drawOutline(object, on: &canvas, color: color(of: object.status), thickness: object.status == .counted ? scale : 1)
        }
        for object in segmentation.objects {
            let label = String(object.id)
            let tw = BitmapFont.width(of: label, scale: 1)
            BitmapFont.draw(label, on: &canvas, x: Int(object.centroidX) - tw / 2, y: Int(object.centroidY) - 3,
                            scale: 1, color: (255, 255, 255), halo: (0, 0, 0))
        }
        var legend: [(String, Color?)] = [(name + "  ", nil), ("counted \(segmentation.count(.counted))", color(of: .counted))]
        for status in ObjectStatus.allCases where status != .counted {
            legend.append(("\(status.rawValue) \(segmentation.count(status))", color(of: status)))
        }
        return addLegend(legend, above: canvas, scale: scale)
    }

    /// Sets the object's boundary pixels (mask pixels within `thickness` of the outside, 4-connected
    /// steps) to `color`.
    public static func drawOutline(_ object: DetectedObject, on image: inout RGBImage, color: Color, thickness: Int) {
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
                if edge {
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
