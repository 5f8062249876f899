import ImageCodecs

extension DetectedObject {
    /// The object's bounding box cut from `field`, every pixel outside the object's mask set to black —
    /// the way the NIH training crops look. `field` must be the image the object was found in.
    /// Cost: O(width · height) of the box.
    public func crop(from field: RGBImage) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        field.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for my in 0..<height {
                    let srcRow = ((y + my) * field.width + x) * 3
                    for mx in 0..<width where mask.bits[my * width + mx] != 0 {
                        let s = srcRow + mx * 3, d = (my * width + mx) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}
