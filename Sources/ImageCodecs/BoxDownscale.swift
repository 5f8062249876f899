extension RGBImage {
    /// The image reduced by `factor` in each direction, each output pixel the rounded mean of its
    /// `factor`×`factor` block; edge blocks that are cut short average the pixels they have, so the result
    /// is ⌈width/factor⌉ × ⌈height/factor⌉ (the same size libjpeg's DCT scaling gives).
    /// Cost: one pass over the source, one row of accumulators.
    public func boxDownscaled(by factor: Int) -> RGBImage {
        precondition(factor >= 1)
        if factor == 1 { return self }
        let outWidth = (width + factor - 1) / factor, outHeight = (height + factor - 1) / factor
        let count = outWidth * outHeight * 3
        var sums = [Int](repeating: 0, count: outWidth * 3)
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            self.pixels.withUnsafeBufferPointer { src in
                sums.withUnsafeMutableBufferPointer { sums in
                    for oy in 0..<outHeight {
                        let y0 = oy * factor, y1 = min(y0 + factor, height)
                        for i in 0..<sums.count { sums[i] = 0 }
                        for y in y0..<y1 {
                            var s = y * width * 3
                            for ox in 0..<outWidth {
                                var r = 0, g = 0, b = 0
                                for _ in (ox * factor)..<min(width, (ox + 1) * factor) {
                                    r += Int(src[s]); g += Int(src[s + 1]); b += Int(src[s + 2])
                                    s += 3
                                }
                                sums[3 * ox] += r; sums[3 * ox + 1] += g; sums[3 * ox + 2] += b
                            }
                        }
                        let rows = y1 - y0
                        for ox in 0..<outWidth {
                            let n = rows * (min((ox + 1) * factor, width) - ox * factor)
                            for c in 0..<3 {
                                out[(oy * outWidth + ox) * 3 + c] = UInt8((sums[ox * 3 + c] + n / 2) / n)
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
