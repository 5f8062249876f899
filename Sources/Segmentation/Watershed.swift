/// Marker-controlled watershed by priority flooding (Meyer's algorithm), without watershed lines.
///
/// Every pixel inside `mask` that is connected (8-neighbourhood, through the mask) to a marker gets
/// the label of the marker whose flood reaches it first, flooding from low to high `elevation`; mask
/// pixels no flood reaches stay 0, as do pixels outside the mask. Elevations are quantised to
/// `levels` steps between their minimum and maximum over the mask, and pixels of equal level are
/// taken first-in first-out, so the result is deterministic.
/// Cost: O(width · height + levels), one bucket queue.
public func watershed(elevation: Plane, markers: LabelImage, mask: BinaryImage, levels: Int = 1024) -> LabelImage {
    let w = elevation.width, h = elevation.height
    precondition(markers.width == w && markers.height == h && mask.width == w && mask.height == h)
    var lo = Float.infinity, hi = -Float.infinity
    for i in 0..<(w * h) where mask.bits[i] != 0 {
        lo = min(lo, elevation.values[i]); hi = max(hi, elevation.values[i])
    }
    var out = markers
    guard lo <= hi else { return out }
    let scale = hi > lo ? Float(levels - 1) / (hi - lo) : 0
    var buckets = [[Int32]](repeating: [], count: levels)
    var queued = [Bool](repeating: false, count: w * h)

    @inline(__always) func level(_ i: Int) -> Int { Int((elevation.values[i] - lo) * scale) }

    // Seed: every unlabelled mask pixel next to a marker pixel.
    for i in 0..<(w * h) where out.labels[i] != 0 {
        queued[i] = true
    }
    for i in 0..<(w * h) where out.labels[i] != 0 {
        let x = i % w, y = i / w
        for dy in -1...1 {
            let ny = y + dy
            if ny < 0 || ny >= h { continue }
            for dx in -1...1 {
                let nx = x + dx
                if nx < 0 || nx >= w { continue }
                let q = ny * w + nx
                if !queued[q] && mask.bits[q] != 0 {
                    queued[q] = true
                    buckets[level(q)].append(Int32(q))
                }
            }
        }
    }
    var current = 0
    var heads = [Int](repeating: 0, count: levels)
    while current < levels {
        if heads[current] == buckets[current].count { current += 1; continue }
        let p = Int(buckets[current][heads[current]])
        heads[current] += 1
        let x = p % w, y = p / w
        // Take the label of the neighbouring labelled pixel with the lowest elevation.
        var label: Int32 = 0
        var best = Float.infinity
        for dy in -1...1 {
            let ny = y + dy
            if ny < 0 || ny >= h { continue }
            for dx in -1...1 {
                let nx = x + dx
                if nx < 0 || nx >= w || (dx == 0 && dy == 0) { continue }
                let q = ny * w + nx
                let l = out.labels[q]
                if l != 0 && elevation.values[q] < best { best = elevation.values[q]; label = l }
            }
        }
        out.labels[p] = label
        for dy in -1...1 {
            let ny = y + dy
            if ny < 0 || ny >= h { continue }
            for dx in -1...1 {
                let nx = x + dx
                if nx < 0 || nx >= w { continue }
                let q = ny * w + nx
                if !queued[q] && mask.bits[q] != 0 {
                    queued[q] = true
                    buckets[max(current, level(q))].append(Int32(q))
                }
            }
        }
    }
    return out
}
