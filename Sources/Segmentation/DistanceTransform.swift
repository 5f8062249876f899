/// Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher, 2012).
///
/// For every pixel, the squared distance to the nearest pixel where `isSource` is true (use the
/// background of a mask to get, for each foreground pixel, its distance to the background). Pixels
/// outside the image are not sources. With no source at all every value is `Float.infinity`.
/// Cost: O(width · height): the vertical pass is two row-by-row sweeps (distance to the nearest
/// source in the same column), the horizontal pass the lower envelope of parabolas along each row.
public func squaredDistanceTransform(width: Int, height: Int, isSource: (Int) -> Bool) -> Plane {
    let n = width * height
    let none = Int32.max
    var column = [Int32](repeating: none, count: n)
    var out = Plane(width: width, height: height, repeating: .infinity)
    column.withUnsafeMutableBufferPointer { g in
        for i in 0..<n where isSource(i) { g[i] = 0 }
        // Columns: nearest source above, then below.
        for y in 1..<max(1, height) {
            let row = y * width
            for x in 0..<width where g[row + x] != 0 && g[row - width + x] != none {
                g[row + x] = min(g[row + x], g[row - width + x] + 1)
            }
        }
        if height > 1 {
            for y in stride(from: height - 2, through: 0, by: -1) {
                let row = y * width
                for x in 0..<width where g[row + width + x] != none {
                    g[row + x] = min(g[row + x], g[row + width + x] + 1)
                }
            }
        }
        // Rows: lower envelope of parabolas rooted at the squared column distances.
        var f = [Double](repeating: 0, count: width)
        var z = [Double](repeating: 0, count: width + 1)
        var v = [Int](repeating: 0, count: width)
        var result = [Double](repeating: 0, count: width)
        out.values.withUnsafeMutableBufferPointer { d in
        f.withUnsafeMutableBufferPointer { f in
        z.withUnsafeMutableBufferPointer { z in
        v.withUnsafeMutableBufferPointer { v in
        result.withUnsafeMutableBufferPointer { r in
            for y in 0..<height {
                let row = y * width
                var any = false
                for x in 0..<width {
                    let c = g[row + x]
                    if c == none { f[x] = .infinity } else { f[x] = Double(c) * Double(c); any = true }
                }
                guard any else { continue }
                lowerEnvelope(f, count: width, z: z, v: v, out: r)
                for x in 0..<width { d[row + x] = Float(r[x]) }
            }
        }}}}}
    }
    return out
}

/// One 1-D pass: `out[q] = min_p (q − p)² + f[p]`, the lower envelope of parabolas rooted at `f`.
@inline(__always)
private func lowerEnvelope(_ f: UnsafeMutableBufferPointer<Double>, count n: Int,
                           z: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Int>,
                           out: UnsafeMutableBufferPointer<Double>) {
    var k = -1
    for q in 0..<n where f[q] < .infinity {
        let fq = f[q] + Double(q * q)
        while k >= 0 {
            let p = v[k]
            let s = (fq - (f[p] + Double(p * p))) / Double(2 * (q - p))
            if s <= z[k] { k -= 1 } else { break }
        }
        if k < 0 {
            k = 0; v[0] = q; z[0] = -.infinity
        } else {
            let p = v[k]
            let s = (fq - (f[p] + Double(p * p))) / Double(2 * (q - p))
            k += 1; v[k] = q; z[k] = s
        }
        z[k + 1] = .infinity
    }
    if k < 0 {
        for q in 0..<n { out[q] = .infinity }
        return
    }
    var j = 0
    for q in 0..<n {
        while z[j + 1] < Double(q) { j += 1 }
        let p = v[j]
        out[q] = Double((q - p) * (q - p)) + f[p]
    }
}

/// Plain reference for `squaredDistanceTransform`: for each pixel, the minimum over all source pixels.
/// Cost: O((width · height)²); for tests only.
public func squaredDistanceTransformReference(width: Int, height: Int, isSource: (Int) -> Bool) -> Plane {
    var sources: [(Int, Int)] = []
    for i in 0..<(width * height) where isSource(i) { sources.append((i % width, i / width)) }
    var out = Plane(width: width, height: height, repeating: .infinity)
    for y in 0..<height {
        for x in 0..<width {
            var best = Float.infinity
            for (sx, sy) in sources {
                best = min(best, Float((sx - x) * (sx - x) + (sy - y) * (sy - y)))
            }
            out[x, y] = best
        }
    }
    return out
}
