import ImageCodecs
import Pipeline
import Segmentation

extension Overlay {
    /// Colour of annotations a detection matched, and of those none did.
    public static let matchedAnnotationColor: Color = (255, 255, 255)
    public static let missedAnnotationColor: Color = (255, 0, 0)
    /// Colour of counted detections no annotation matched.
    public static let unmatchedDetectionColor: Color = (255, 230, 0)

    /// The analysis overlay plus the expert annotations: matched ones in thin white, missed ones in
    /// red (boxes as rectangles, points as crosses), leukocyte annotations thin in orange, counted
    /// detections no annotation matched in yellow. Border-touching annotations are not drawn.
    public static func renderValidation(_ field: RGBImage, name: String, segmentation: SegmentationResult,
                                        annotations: [Annotation], validation: FieldValidation) -> RGBImage {
        var canvas = field
        let scale = max(1, min(field.width, field.height) / 480)
        let matchedDetections = Set(validation.pairs.map(\.detection))
        for object in segmentation.objects {
            let unmatched = object.status == .counted && !matchedDetections.contains(object.id)
            drawOutline(object, on: &canvas, color: unmatched ? unmatchedDetectionColor : color(of: object.status),
                        thickness: object.status == .counted ? scale : 1)
        }
        let matched = Set(validation.pairs.map(\.annotation))
        for (i, a) in annotations.enumerated() where validation.considered.contains(i) {
            // Leukocyte annotations in the leukocyte colour; red cells white when matched, red when missed.
            let c = a.kind == .leukocyte ? color(of: .leukocyte) : matched.contains(i) ? matchedAnnotationColor : missedAnnotationColor
            if let w = a.width, let h = a.height {
                drawRectangle(on: &canvas, x: Int(a.x), y: Int(a.y), width: Int(w), height: Int(h), color: c,
                              thickness: matched.contains(i) || a.kind == .leukocyte ? 1 : 2 * scale)
            } else {
                let r = 4 * scale
                for d in -r...r {
                    for t in 0..<scale {
                        set(&canvas, Int(a.x) + d, Int(a.y) + t, c)
                        set(&canvas, Int(a.x) + t, Int(a.y) + d, c)
                    }
                }
            }
        }
        let legend: [(String, Color?)] = [
            (name + "  ", nil),
            ("annotated \(validation.annotated)", nil),
            ("detected \(validation.detected)", color(of: .counted)),
            ("unmatched \(validation.detected - validation.matched)", unmatchedDetectionColor),
            ("matched \(validation.matched)", matchedAnnotationColor),
            ("missed \(validation.annotated - validation.matched)", missedAnnotationColor),
        ]
        return addLegend(legend, above: canvas, scale: scale)
    }

    static func set(_ image: inout RGBImage, _ x: Int, _ y: Int, _ c: Color) {
        if x >= 0 && y >= 0 && x < image.width && y < image.height { image[x, y] = (c.0, c.1, c.2) }
    }

    /// Outline of a rectangle, `thickness` pixels wide, inside the given box.
    public static func drawRectangle(on image: inout RGBImage, x: Int, y: Int, width: Int, height: Int,
                                     color c: Color, thickness: Int) {
        for t in 0..<thickness {
            for px in x..<(x + width) { set(&image, px, y + t, c); set(&image, px, y + height - 1 - t, c) }
            for py in y..<(y + height) { set(&image, x + t, py, c); set(&image, x + width - 1 - t, py, c) }
        }
    }
}
