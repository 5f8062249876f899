/// Binary and greyscale morphology used by the segmenter.

/// Dilation of `mask` by a disc of `radius` pixels: a pixel is set when some foreground pixel lies
/// within `radius` (Euclidean). Cost: O(width · height · (2r + 1)) byte operations for radii up to
/// 6, one exact distance transform beyond.
public func dilate(_ mask: BinaryImage, radius: Float) -> BinaryImage {
    if radius <= 6 { return discFilter(mask, radius: radius, dilate: true) }
    let d = squaredDistanceTransform(width: mask.width, height: mask.height) { mask.bits[$0] != 0 }
    let r2 = radius * radius
    return BinaryImage(width: mask.width, height: mask.height, bits: d.values.map { $0 <= r2 ? 1 : 0 })
}

/// Erosion of `mask` by a disc of `radius` pixels: a pixel stays set when no background pixel lies
/// within `radius`. Outside the image counts as foreground (no erosion from the border).
/// Cost: O(width · height · (2r + 1)) byte operations for radii up to 6, one exact distance
/// transform beyond.
public func erode(_ mask: BinaryImage, radius: Float) -> BinaryImage {
    if radius <= 6 { return discFilter(mask, radius: radius, dilate: false) }
    let d = squaredDistanceTransform(width: mask.width, height: mask.height) { mask.bits[$0] == 0 }
    let r2 = radius * radius
    return BinaryImage(width: mask.width, height: mask.height, bits: d.values.map { $0 > r2 ? 1 : 0 })
}

/// Erosion or dilation by a small disc, decomposed into rows: the disc is the union over row
/// offsets `dy` of horizontal segments of half-width `k(dy) = ⌊√(r² − dy²)⌋`, so erosion is the AND
/// (dilation the OR) over `dy` of the mask's horizontal erosion (dilation) by `k(dy)`, shifted by
/// `dy`. Outside the image counts as foreground for erosion and background for dilation, as in the
/// distance-transform versions. Cost: O(width · height · (2r + 1)), byte operations.
func discFilter(_ mask: BinaryImage, radius: Float, dilate: Bool) -> BinaryImage {
    let w = mask.width, h = mask.height
    let r = Int(radius)
    let halfWidths = (-r...r).map { dy in Int((radius * radius - Float(dy * dy)).squareRoot()) }
    // Horizontal erosion/dilation by each half-width that occurs.
    var horizontal: [Int: [UInt8]] = [:]
    for k in Set(halfWidths) {
        var out = [UInt8](repeating: 0, count: w * h)
        mask.bits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w
                    // Running count of foreground pixels in the window [x − k, x + k] (clipped).
                    var count = 0
                    for x in 0..<min(w, k) { count += Int(src[row + x]) }
                    for x in 0..<w {
                        if x + k < w { count += Int(src[row + x + k]) }
                        if x - k - 1 >= 0 { count -= Int(src[row + x - k - 1]) }
                        let inside = min(w - 1, x + k) - max(0, x - k) + 1
                        dst[row + x] = dilate ? (count > 0 ? 1 : 0) : (count == inside ? 1 : 0)
                    }
                }
            }
        }
        horizontal[k] = out
    }
    var result = [UInt8](repeating: dilate ? 0 : 1, count: w * h)
    result.withUnsafeMutableBufferPointer { dst in
        for (index, dy) in (-r...r).enumerated() {
            horizontal[halfWidths[index]]!.withUnsafeBufferPointer { src in
                for y in 0..<h {
                    let sy = y + dy
                    let row = y * w
                    guard sy >= 0 && sy < h else { continue }   // outside: neutral for both
                    let srow = sy * w
                    if dilate {
                        for x in 0..<w { dst[row + x] |= src[srow + x] }
                    } else {
                        for x in 0..<w { dst[row + x] &= src[srow + x] }
                    }
                }
            }
        }
    }
    return BinaryImage(width: w, height: h, bits: result)
}

/// Opening (erosion then dilation) by a disc: removes foreground parts narrower than `2 · radius`.
public func open(_ mask: BinaryImage, radius: Float) -> BinaryImage {
    dilate(erode(mask, radius: radius), radius: radius)
}

/// Closing (dilation then erosion) by a disc: fills gaps narrower than `2 · radius`.
public func close(_ mask: BinaryImage, radius: Float) -> BinaryImage {
    erode(dilate(mask, radius: radius), radius: radius)
}

/// Fills holes: background regions (4-connected) that do not touch the image border and have at
/// most `maxArea` pixels become foreground. Cost: one labelling and one `RegionProperties`.
public func fillHoles(_ mask: BinaryImage, maxArea: Int = .max) -> BinaryImage {
    let w = mask.width, h = mask.height
    let inverse = BinaryImage(width: w, height: h, bits: mask.bits.map { $0 == 0 ? 1 : 0 })
    let labels = connectedComponents(inverse, eightConnected: false)
    let regions = RegionProperties(labels)
    var out = mask
    for i in 0..<(w * h) {
        let l = Int(labels.labels[i])
        if l != 0 && !regions[l].touchesBorder && regions[l].area <= maxArea { out.bits[i] = 1 }
    }
    return out
}

/// Greyscale reconstruction by dilation of `marker` under `mask` (`marker ≤ mask` pointwise),
/// 8-connected: the largest image ≤ `mask` obtained by repeatedly dilating `marker`.
/// Vincent's hybrid algorithm: a raster and an anti-raster sweep, then a FIFO propagation.
/// Cost: O(width · height) in practice.
public func reconstructByDilation(marker: Plane, mask: Plane) -> Plane {
    let w = marker.width, h = marker.height
    var j = marker.values
    let m = mask.values
    var queue: [Int32] = []
    j.withUnsafeMutableBufferPointer { j in
        // Raster sweep: previous neighbours are left, up-left, up, up-right.
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                var v = j[i]
                if x > 0 { v = max(v, j[i - 1]) }
                if y > 0 {
                    v = max(v, j[i - w])
                    if x > 0 { v = max(v, j[i - w - 1]) }
                    if x + 1 < w { v = max(v, j[i - w + 1]) }
                }
                j[i] = min(v, m[i])
            }
        }
        // Anti-raster sweep; queue pixels that could still raise a later neighbour.
        for y in stride(from: h - 1, through: 0, by: -1) {
            for x in stride(from: w - 1, through: 0, by: -1) {
                let i = y * w + x
                var v = j[i]
                if x + 1 < w { v = max(v, j[i + 1]) }
                if y + 1 < h {
                    v = max(v, j[i + w])
                    if x + 1 < w { v = max(v, j[i + w + 1]) }
                    if x > 0 { v = max(v, j[i + w - 1]) }
                }
                v = min(v, m[i])
                j[i] = v
                @inline(__always) func check(_ q: Int) -> Bool { j[q] < v && j[q] < m[q] }
                var enqueue = false
                if x + 1 < w && check(i + 1) { enqueue = true }
                if y + 1 < h {
                    if check(i + w) { enqueue = true }
                    if x + 1 < w && check(i + w + 1) { enqueue = true }
                    if x > 0 && check(i + w - 1) { enqueue = true }
                }
                if enqueue { queue.append(Int32(i)) }
            }
        }
        var head = 0
        while head < queue.count {
            let p = Int(queue[head]); head += 1
            let px = p % w, py = p / w
            let v = j[p]
            for dy in -1...1 {
                let ny = py + dy
                if ny < 0 || ny >= h { continue }
                for dx in -1...1 {
                    let nx = px + dx
                    if nx < 0 || nx >= w || (dx == 0 && dy == 0) { continue }
                    let q = ny * w + nx
                    if j[q] < v && m[q] != j[q] {
                        j[q] = min(v, m[q])
                        queue.append(Int32(q))
                    }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: j)
}

/// Extended maxima: the regional maxima of `f` whose dynamic (height above the lowest pass leading
/// to a higher maximum) is at least `h`, as labelled 8-connected regions — the regional maxima of the
/// h-maxima transform `R_f(f − h)`, so maxima of equal height joined by a pass less than `h` deep form
/// one region (the plateau of the transform around them). Only pixels where `f > floor` are
/// considered. Cost: two reconstructions and one labelling.
public func extendedMaxima(_ f: Plane, h: Float, floor: Float = 0) -> LabelImage {
    let lowered = Plane(width: f.width, height: f.height, values: f.values.map { $0 - h })
    let hMaxima = reconstructByDilation(marker: lowered, mask: f)
    // Regional maxima of the h-maxima transform: plateaus that reconstruction from a slightly lower copy
    // cannot refill, because no higher neighbour reaches them. `step` is far below any meaningful height
    // difference and a few units in the last place above rounding at the heights of `f`.
    let magnitude = f.values.reduce(Float(0)) { max($0, abs($1)) }
    let step = max(h * 1e-3, 4 * magnitude.ulp)
    let dropped = Plane(width: f.width, height: f.height, values: hMaxima.values.map { $0 - step })
    let refilled = reconstructByDilation(marker: dropped, mask: hMaxima)
    var bits = [UInt8](repeating: 0, count: f.values.count)
    for i in 0..<bits.count where f.values[i] > floor && hMaxima.values[i] - refilled.values[i] >= step / 2 {
        bits[i] = 1
    }
    return connectedComponents(BinaryImage(width: f.width, height: f.height, bits: bits))
}
