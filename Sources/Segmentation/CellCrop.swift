import ImageCodecs

extension DetectedObject {
    /// The object's bounding box cut from `field`, every pixel outside the object's mask set to black —
    /// the way the NIH training crops look. `field` should be the image the object was found in; parts
    /// of the box outside it stay black. Cost: O(width · height) of the box.
    public func crop(from field: RGBImage) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        guard mask.bits.count == width * height, x > -width, y > -height, x < field.width, y < field.height else { return out }
        let rows = max(0, -y)..<max(max(0, -y), min(height, field.height - y))
        let columns = max(0, -x)..<max(max(0, -x), min(width, field.width - x))
        field.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for my in rows {
                    let srcRow = ((y + my) * field.width + x) * 3
                    for mx in columns where mask.bits[my * width + mx] != 0 {
                        let s = srcRow + mx * 3, d = (my * width + mx) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}
