import ImageCodecs
import Segmentation

/// Integer pixel geometry that cannot trap, for drawing things whose positions and sizes come from
/// data (detections, annotation files, centroids): doubles that may be NaN, infinite or 1e300, boxes
/// with negative sizes or far outside the image, ids and coordinates near `Int.max`.
///
/// Every coordinate is first clamped to ±`limit`. No image has a side anywhere near 2⁴⁰ pixels, so a
/// clamped coordinate is off the image exactly when the original one was, and sums of a clamped
/// coordinate with a glyph, margin or mask size (all far below 2⁴⁰) cannot overflow. Loops then run
/// over the part of a shape that lies inside the image only, so their cost is bounded by the image.
enum PixelGeometry {
    /// Coordinates beyond ±2⁴⁰ are clamped to it.
    static let limit = 1 << 40

    /// `value` clamped to ±`limit`.
    static func clamped(_ value: Int) -> Int { max(-limit, min(limit, value)) }

    /// `value` as a pixel coordinate: truncated toward zero (like `Int(_:)`) and clamped to ±`limit`
    /// (±infinity and 1e300 included); nil for NaN, which has no position.
    static func coordinate(_ value: Double) -> Int? {
        guard !value.isNaN else { return nil }
        return Int(max(-Double(limit), min(Double(limit), value)))
    }

    /// `a + b`, or `Int.max` / `Int.min` where the sum overflows.
    static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : sum
    }

    /// `a - b`, or `Int.max` / `Int.min` where the difference overflows.
    static func saturatingSubtract(_ a: Int, _ b: Int) -> Int {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? Int.max : Int.min) : difference
    }

    /// The indices `i` in `0..<length` with `0 <= offset + i < bound`: the part of a run of `length`
    /// pixels starting at `offset` that lies on an image side of `bound` pixels. Empty when none does.
    static func visible(offset: Int, length: Int, bound: Int) -> Range<Int> {
        let o = clamped(offset), n = max(0, length)
        let lower = min(n, max(0, -o))
        return lower..<max(lower, min(n, bound - o))
    }

    /// Sets the pixels of the half-open box [x0, x1) × [y0, y1) that lie inside `image` to `color`.
    /// Any bounds are accepted (reversed, beyond the image, `Int.min`/`Int.max`). Cost: the box's
    /// pixels inside the image.
    static func fill(_ image: inout RGBImage, x0: Int, y0: Int, x1: Int, y1: Int, color: (UInt8, UInt8, UInt8)) {
        let left = max(0, x0), right = min(image.width, x1), top = max(0, y0), bottom = min(image.height, y1)
        guard left < right, top < bottom else { return }
        for py in top..<bottom {
            for px in left..<right { image[px, py] = (color.0, color.1, color.2) }
        }
    }
}

/// Where an object's mask lies in the image: its top-left corner (clamped to ±`PixelGeometry.limit`),
/// its size and bits. The mask is the truth; the object's own `width` and `height` are copies of its
/// size and are not trusted. Nil (nothing to draw) when the bits do not fill the mask's size.
struct MaskPlacement {
    var x: Int
    var y: Int
    var width: Int
    var height: Int
    var bits: [UInt8]

    init?(_ object: DetectedObject) {
        let mask = object.mask
        guard mask.width >= 0, mask.height >= 0,
              case let (area, overflow) = mask.width.multipliedReportingOverflow(by: mask.height), !overflow,
              mask.bits.count == area else { return nil }
        x = PixelGeometry.clamped(object.x)
        y = PixelGeometry.clamped(object.y)
        width = mask.width
        height = mask.height
        bits = mask.bits
    }

    /// The mask columns and rows that lie inside an image of the given size.
    func visibleColumns(imageWidth: Int) -> Range<Int> { PixelGeometry.visible(offset: x, length: width, bound: imageWidth) }
    func visibleRows(imageHeight: Int) -> Range<Int> { PixelGeometry.visible(offset: y, length: height, bound: imageHeight) }
}
