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
    /// Annotations come from a CSV file and may hold anything: a NaN coordinate or size, or a negative
    /// size, draws nothing; infinite and huge values are clipped to the image like any other.
    public static func renderValidation(_ field: RGBImage, name: String, segmentation: SegmentationResult,
                                        annotations: [Annotation], validation: FieldValidation) -> RGBImage {
        var canvas = field
        let scale = drawingScale(of: field)
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
            drawAnnotation(a, on: &canvas, color: c, thickness: matched.contains(i) || a.kind == .leukocyte ? 1 : 2 * scale, scale: scale)
        }
        return addLegend(validationLegend(name: name, validation: validation), above: canvas, scale: scale)
    }

    /// The header's entries: the file name, then the field's agreement counts with their colours.
    static func validationLegend(name: String, validation: FieldValidation) -> [LegendEntry] {
        [
            (name, nil),
            ("annotated \(validation.annotated)", nil),
            ("detected \(validation.detected)", color(of: .counted)),
            ("unmatched \(validation.detected - validation.matched)", unmatchedDetectionColor),
            ("matched \(validation.matched)", matchedAnnotationColor),
            ("missed \(validation.annotated - validation.matched)", missedAnnotationColor),
        ]
    }

    /// A box annotation as a rectangle `thickness` pixels wide, a point as a cross of arms 4·`scale`
    /// long and `scale` wide. A box's edges are its coordinates x, y, x + width, y + height truncated
    /// toward zero; NaN anywhere (∞ − ∞ included) or a negative size draws nothing.
    static func drawAnnotation(_ a: Annotation, on image: inout RGBImage, color c: Color, thickness: Int, scale: Int) {
        guard let x = PixelGeometry.coordinate(a.x), let y = PixelGeometry.coordinate(a.y) else { return }
        if let w = a.width, let h = a.height {
            guard let right = PixelGeometry.coordinate(a.x + w), let bottom = PixelGeometry.coordinate(a.y + h) else { return }
            drawRectangle(on: &image, x: x, y: y, width: right - x, height: bottom - y, color: c, thickness: thickness)
        } else {
            let r = 4 * scale
            PixelGeometry.fill(&image, x0: x - r, y0: y, x1: x + r + 1, y1: y + scale, color: c)
            PixelGeometry.fill(&image, x0: x, y0: y - r, x1: x + scale, y1: y + r + 1, color: c)
        }
    }

    /// Outline of the box [x, x + width) × [y, y + height), `thickness` pixels wide inside it (a box
    /// no more than twice the thickness across is filled). Any integers are accepted: nothing is
    /// drawn for a size or thickness ≤ 0, and only the part inside the image is visited.
    /// Cost: O(outline pixels inside the image).
    public static func drawRectangle(on image: inout RGBImage, x: Int, y: Int, width: Int, height: Int,
                                     color c: Color, thickness: Int) {
        guard width > 0, height > 0, thickness > 0 else { return }
        typealias G = PixelGeometry
        let right = G.saturatingAdd(x, width), bottom = G.saturatingAdd(y, height)
        let innerLeft = G.saturatingAdd(x, thickness), innerRight = G.saturatingSubtract(right, thickness)
        let innerTop = G.saturatingAdd(y, thickness), innerBottom = G.saturatingSubtract(bottom, thickness)
        G.fill(&image, x0: x, y0: y, x1: right, y1: min(innerTop, bottom), color: c)
        G.fill(&image, x0: x, y0: max(innerBottom, y), x1: right, y1: bottom, color: c)
        G.fill(&image, x0: x, y0: y, x1: min(innerLeft, right), y1: bottom, color: c)
        G.fill(&image, x0: max(innerRight, x), y0: y, x1: right, y1: bottom, color: c)
    }
}
