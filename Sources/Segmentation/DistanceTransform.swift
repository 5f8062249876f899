/// Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher, 2012).
///
/// For every pixel, the squared distance to the nearest pixel where `isSource` is true (use the
/// background of a mask to get, for each foreground pixel, its distance to the background). Pixels
/// outside the image are not sources. With no source at all every value is `Float.infinity`.
/// Cost: O(width · height), two 1-D passes with two scratch rows.
public func squaredDistanceTransform(width: Int, height: Int, isSource: (Int) -> Bool) -> Plane {
    let inf = Float.infinity
    var out = Plane(width: width, height: height, repeating: inf)
    out.values.withUnsafeMutableBufferPointer { d in
        for i in 0..<(width * height) where isSource(i) { d[i] = 0 }
        let n = max(width, height)
        var f = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n + 1)
        var v = [Int](repeating: 0, count: n)
        var result = [Double](repeating: 0, count: n)
        f.withUnsafeMutableBufferPointer { f in
        z.withUnsafeMutableBufferPointer { z in
        v.withUnsafeMutableBufferPointer { v in
        result.withUnsafeMutableBufferPointer { r in
            // Columns.
            for x in 0..<width {
                for y in 0..<height { f[y] = Double(d[y * width + x]) }
                lowerEnvelope(f, count: height, z: z, v: v, out: r)
                for y in 0..<height { d[y * width + x] = Float(r[y]) }
            }
            // Rows.
            for y in 0..<height {
                let row = y * width
                for x in 0..<width { f[x] = Double(d[row + x]) }
                lowerEnvelope(f, count: width, z: z, v: v, out: r)
                for x in 0..<width { d[row + x] = Float(r[x]) }
            }
        }}}}
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
