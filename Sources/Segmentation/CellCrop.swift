import ImageCodecs

extension DetectedObject {
    /// The ring in pixels that `context` (a fraction, 0…0.5) asks around this object: `context` times
    /// the longer side of its box, rounded to the nearest pixel; 0 for a context of 0 or less.
    public func ring(context: Float) -> Int {
        context > 0 ? Int((Double(context) * Double(max(width, height, 0))).rounded()) : 0
    }

    /// `crop(from:ring:)` with the ring `ring(context:)`: what a classifier trained with that context
    /// takes (`Preprocessing.context`).
    public func crop(from field: RGBImage, context: Float) -> RGBImage {
        crop(from: field, ring: ring(context: min(context, 0.5)))
    }

    /// The object's bounding box grown by `ring` px on every side, cut from `field`: every pixel within
    /// `ring` px of the object's mask (Euclidean, `dilate(_:radius:)`) keeps the field's colour, every
    /// other pixel is black. `ring` 0 gives the mask alone on black, the way the NIH training crops look;
    /// a ring shows the classifier what lies beside the cell (`Preprocessing.context`). `field` should be
    /// the image the object was found in; parts of the grown box outside it stay black.
    /// Result: `(width + 2·ring) × (height + 2·ring)`. Needs `ring ≥ 0`.
    /// Cost: O(width · height) of the grown box; with a ring, the dilation's too: times (2·ring + 1) for
    /// rings up to 6 px, one distance transform of the box beyond.
    public func crop(from field: RGBImage, ring: Int = 0) -> RGBImage {
        precondition(ring >= 0, "a crop's ring cannot be negative")
        let w = width + 2 * ring, h = height + 2 * ring
        var out = RGBImage(width: w, height: h)
        let (left, leftOverflow) = x.subtractingReportingOverflow(ring), (top, topOverflow) = y.subtractingReportingOverflow(ring)
        guard mask.bits.count == width * height, !leftOverflow, !topOverflow, left > -w, top > -h, left < field.width, top < field.height
        else { return out }
        var kept = mask
        if ring > 0 {
            var grown = BinaryImage(width: w, height: h)
            for my in 0 ..< height { for mx in 0 ..< width where mask.bits[my * width + mx] != 0 { grown.bits[(my + ring) * w + mx + ring] = 1 } }
            kept = dilate(grown, radius: Float(ring))
        }
        let rows = max(0, -top)..<max(max(0, -top), min(h, field.height - top))
        let columns = max(0, -left)..<max(max(0, -left), min(w, field.width - left))
        field.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for my in rows {
                    let srcRow = ((top + my) * field.width + left) * 3
                    for mx in columns where kept.bits[my * w + mx] != 0 {
                        let s = srcRow + mx * 3, d = (my * w + mx) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}
