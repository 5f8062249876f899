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
