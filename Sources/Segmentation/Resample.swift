import ImageCodecs

/// Shrinks `image` by an integer `factor` with area averaging (each output pixel is the rounded mean
/// of a `factor × factor` block; partial blocks at the right and bottom edges are averaged over the
/// pixels they have). Cost: one pass over the input.
public func boxDownscale(_ image: RGBImage, factor: Int) -> RGBImage {
    precondition(factor >= 1)
    if factor == 1 { return image }
    let w = (image.width + factor - 1) / factor, h = (image.height + factor - 1) / factor
    var sums = [UInt32](repeating: 0, count: w * 3)
    var counts = [UInt32](repeating: 0, count: w)
    var out = [UInt8](repeating: 0, count: w * h * 3)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for oy in 0..<h {
                for i in 0..<(w * 3) { sums[i] = 0 }
                for i in 0..<w { counts[i] = 0 }
                let y1 = min(image.height, (oy + 1) * factor)
                for y in (oy * factor)..<y1 {
                    let row = y * image.width * 3
                    for x in 0..<image.width {
                        let o = x / factor
                        sums[3 * o] += UInt32(src[row + 3 * x])
                        sums[3 * o + 1] += UInt32(src[row + 3 * x + 1])
                        sums[3 * o + 2] += UInt32(src[row + 3 * x + 2])
                        counts[o] += 1
                    }
                }
                for o in 0..<w {
                    let c = counts[o], half = c / 2
                    let d = 3 * (oy * w + o)
                    dst[d] = UInt8((sums[3 * o] + half) / c)
                    dst[d + 1] = UInt8((sums[3 * o + 1] + half) / c)
                    dst[d + 2] = UInt8((sums[3 * o + 2] + half) / c)
                }
            }
        }
    }
    return RGBImage(width: w, height: h, pixels: out)
}

/// Mean over a `(2·radius + 1)²` window, the window clipped at the image edges.
/// Cost: two passes with running sums, independent of the radius.
public func boxBlur(_ plane: Plane, radius: Int) -> Plane {
    guard radius > 0 else { return plane }
    let w = plane.width, h = plane.height
    var tmp = [Float](repeating: 0, count: w * h)
    var out = [Float](repeating: 0, count: w * h)
    plane.values.withUnsafeBufferPointer { src in
        tmp.withUnsafeMutableBufferPointer { t in
            for y in 0..<h {
                let row = y * w
                var acc: Float = 0
                var lo = 0, hi = -1
                for x in 0..<w {
                    let want = min(w - 1, x + radius)
                    while hi < want { hi += 1; acc += src[row + hi] }
                    while lo < x - radius { acc -= src[row + lo]; lo += 1 }
                    t[row + x] = acc / Float(hi - lo + 1)
                }
            }
        }
        tmp.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                var acc = [Float](repeating: 0, count: w)
                var lo = 0, hi = -1
                for y in 0..<h {
                    let want = min(h - 1, y + radius)
                    while hi < want { hi += 1; for x in 0..<w { acc[x] += t[hi * w + x] } }
                    while lo < y - radius { for x in 0..<w { acc[x] -= t[lo * w + x] }; lo += 1 }
                    let inv = 1 / Float(hi - lo + 1)
                    for x in 0..<w { o[y * w + x] = acc[x] * inv }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}
