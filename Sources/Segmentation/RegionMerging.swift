/// Merging of over-segmented regions of a label image.

/// Merges each region labelled above `firstMergeable - 1` and smaller than `minArea` into the
/// neighbouring region it shares the longest boundary with (when it has one), then renumbers labels
/// `1…count`. Regions below `firstMergeable` (those grown from a seed) are never merged away.
func mergeFragments(_ labels: LabelImage, minArea: Double, firstMergeable: Int = 1) -> LabelImage {
    let w = labels.width, h = labels.height
    var area = [Int](repeating: 0, count: labels.count + 1)
    for l in labels.labels { area[Int(l)] += 1 }
    var shared: [Int: Int] = [:]   // key: a · (count + 1) + b
    let stride = labels.count + 1
    for y in 0..<h {
        for x in 0..<w {
            let a = Int(labels.labels[y * w + x])
            guard a != 0 else { continue }
            if x + 1 < w {
                let b = Int(labels.labels[y * w + x + 1])
                if b != 0 && b != a { shared[a * stride + b, default: 0] += 1; shared[b * stride + a, default: 0] += 1 }
            }
            if y + 1 < h {
                let b = Int(labels.labels[(y + 1) * w + x])
                if b != 0 && b != a { shared[a * stride + b, default: 0] += 1; shared[b * stride + a, default: 0] += 1 }
            }
        }
    }
    var target = Array(0...labels.count)
    // Smallest fragments first, so a chain of fragments collapses into the big region.
    let small = (max(1, firstMergeable)..<stride).filter { Double(area[$0]) < minArea }.sorted { area[$0] < area[$1] }
    func root(_ l: Int) -> Int { var r = l; while target[r] != r { r = target[r] }; return r }
    for a in small {
        var best = 0, bestLength = 0
        for (key, length) in shared where key / stride == a {
            let b = key % stride
            if length > bestLength || (length == bestLength && b < best) { best = b; bestLength = length }
        }
        if best != 0 && root(best) != a { target[a] = root(best) }
    }
    var renumber = [Int32](repeating: 0, count: stride)
    var next: Int32 = 0
    var out = labels
    for i in 0..<out.labels.count where out.labels[i] != 0 {
        let r = root(Int(out.labels[i]))
        if renumber[r] == 0 { next += 1; renumber[r] = next }
        out.labels[i] = renumber[r]
    }
    out.count = Int(next)
    return out
}

/// Merges pairs of neighbouring regions that together look like one cell: their union is no larger
/// than 1.3 times the median region area and nearly convex (area ≥ 0.9 of its convex hull), and they
/// share at least `minContact` pixels of boundary. Two touching cells fail both tests (twice the
/// area, a waist where they meet); a cell cut in two by a spurious centre passes them. Smallest
/// unions are merged first. Cost: one pass plus O(rows) per candidate pair.
func mergeSplitCells(_ labels: LabelImage, minContact: Double) -> LabelImage {
    let w = labels.width, h = labels.height
    let count = labels.count
    guard count > 1 else { return labels }
    var area = [Int](repeating: 0, count: count + 1)
    var rowMin = [[Int32]](repeating: [], count: count + 1), rowMax = rowMin
    var top = [Int](repeating: .max, count: count + 1)
    var shared: [Int: Int] = [:]
    for y in 0..<h {
        for x in 0..<w {
            let a = Int(labels.labels[y * w + x])
            guard a != 0 else { continue }
            area[a] += 1
            if top[a] == .max { top[a] = y }
            let row = y - top[a]
            while row >= rowMin[a].count { rowMin[a].append(.max); rowMax[a].append(.min) }   // rows may be skipped
            rowMin[a][row] = min(rowMin[a][row], Int32(x)); rowMax[a][row] = max(rowMax[a][row], Int32(x))
            if x + 1 < w {
                let b = Int(labels.labels[y * w + x + 1])
                if b != 0 && b != a { shared[min(a, b) * (count + 1) + max(a, b), default: 0] += 1 }
            }
            if y + 1 < h {
                let b = Int(labels.labels[(y + 1) * w + x])
                if b != 0 && b != a { shared[min(a, b) * (count + 1) + max(a, b), default: 0] += 1 }
            }
        }
    }
    let sortedAreas = area.dropFirst().filter { $0 > 0 }.sorted()
    let typical = Double(sortedAreas[sortedAreas.count / 2])
    var target = Array(0...count)
    func root(_ l: Int) -> Int { var r = l; while target[r] != r { r = target[r] }; return r }
    let pairs = shared.filter { Double($0.value) >= minContact }.keys
        .map { (a: $0 / (count + 1), b: $0 % (count + 1)) }
        .sorted { (area[$0.a] + area[$0.b], $0.a, $0.b) < (area[$1.a] + area[$1.b], $1.a, $1.b) }
    for (a, b) in pairs {
        let ra = root(a), rb = root(b)
        guard ra != rb, ra == a, rb == b else { continue }   // only pairs of original regions
        let union = area[a] + area[b]
        guard Double(union) <= 1.3 * typical else { continue }
        let hull = convexHullArea(rows: [(top[a], rowMin[a], rowMax[a]), (top[b], rowMin[b], rowMax[b])])
        guard hull > 0, Double(union) >= 0.9 * hull else { continue }
        target[b] = a
        area[a] = union
    }
    var renumber = [Int32](repeating: 0, count: count + 1)
    var next: Int32 = 0
    var out = labels
    for i in 0..<out.labels.count where out.labels[i] != 0 {
        let r = root(Int(out.labels[i]))
        if renumber[r] == 0 { next += 1; renumber[r] = next }
        out.labels[i] = renumber[r]
    }
    out.count = Int(next)
    return out
}

/// Area of the convex hull of the pixel squares of one or more regions given as row extents
/// (first row, then the leftmost and rightmost x of each row; rows with min > max are empty). Andrew's monotone chain on the
/// row-end corners. Cost: O(rows · log rows).
func convexHullArea(rows regions: [(top: Int, min: [Int32], max: [Int32])]) -> Double {
    var points: [(Double, Double)] = []
    for region in regions {
        for (i, lo) in region.min.enumerated() where lo <= region.max[i] {
            let y = Double(region.top + i), hi = Double(region.max[i]) + 1
            points += [(Double(lo), y), (Double(lo), y + 1), (hi, y), (hi, y + 1)]
        }
    }
    points.sort { $0 < $1 }
    guard points.count >= 3 else { return 0 }
    func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    }
    var hull: [(Double, Double)] = []
    for p in points {
        while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
        hull.append(p)
    }
    let lowerCount = hull.count + 1
    for p in points.reversed() {
        while hull.count >= lowerCount && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
        hull.append(p)
    }
    hull.removeLast()
    var twice = 0.0
    for i in hull.indices {
        let p = hull[i], q = hull[(i + 1) % hull.count]
        twice += p.0 * q.1 - q.0 * p.1
    }
    return abs(twice) / 2
}
