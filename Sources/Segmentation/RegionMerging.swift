/// Merging of over-segmented regions of a label image.

/// Merges each region labelled `firstMergeable` or above that is smaller than `minArea` and at least
/// `minThickness` thick (2·area/perimeter) into the neighbouring region it shares the longest
/// boundary with (when it has one), then renumbers labels `1…count`. Regions below
/// `firstMergeable` (those grown from a seed) are never merged away; thin pieces (fibres, scratches)
/// stay apart so they do not drag a cell into the border or into another cell.
func mergeFragments(_ labels: LabelImage, minArea: Double, minThickness: Double, firstMergeable: Int = 1) -> LabelImage {
    let stride = labels.count + 1
    let first = max(1, firstMergeable)
    let regions = RegionProperties(labels)
    var neighbours = [[Int: Int]](repeating: [:], count: stride)   // shared boundary lengths
    for (pair, length) in regionContacts(labels) {
        if pair.a >= first { neighbours[pair.a][pair.b] = length }
        if pair.b >= first { neighbours[pair.b][pair.a] = length }
    }
    // Smallest fragments first, so a chain of fragments collapses into the big region.
    let small = (first..<stride).filter {
        Double(regions[$0].area) < minArea && 2 * Double(regions[$0].area) >= minThickness * Double(max(1, regions[$0].boundaryPixels))
    }.sorted { regions[$0].area < regions[$1].area }
    var sets = DisjointSets(count: stride)
    for a in small {
        var best = 0, bestLength = 0
        for (b, length) in neighbours[a] where length > bestLength || (length == bestLength && b < best) {
            best = b; bestLength = length
        }
        if best != 0 { sets.union(a, best) }
    }
    var out = labels
    sets.relabel(&out)
    return out
}

/// Merges pairs of neighbouring regions that together look like one cell: their union is no larger
/// than 1.3 times the median region area and nearly convex (area ≥ 0.9 of its convex hull), and they
/// share at least `minContact` pixels of boundary. Two touching cells fail both tests (twice the
/// area, a waist where they meet); a cell cut in two by a spurious centre passes them. Smallest
/// unions are merged first; a region already merged away is not merged again (the region it joined
/// may be, with its own area grown but its original outline for the hull). Cost: one pass plus
/// O(box) per candidate pair.
func mergeSplitCells(_ labels: LabelImage, minContact: Double) -> LabelImage {
    let count = labels.count
    guard count > 1 else { return labels }
    let regions = RegionProperties(labels)
    var area = (0...count).map { regions[$0].area }   // of each region and what it has absorbed
    let sortedAreas = area.dropFirst().filter { $0 > 0 }.sorted()
    let typical = Double(sortedAreas[sortedAreas.count / 2])
    var sets = DisjointSets(count: count + 1)
    let pairs = regionContacts(labels).filter { Double($0.value) >= minContact }.keys
        .sorted { (area[$0.a] + area[$0.b], $0.a, $0.b) < (area[$1.a] + area[$1.b], $1.a, $1.b) }
    for pair in pairs {
        let a = pair.a, b = pair.b
        guard sets.find(a) == a, sets.find(b) == b else { continue }   // neither merged away yet
        let union = area[a] + area[b]
        guard Double(union) <= 1.3 * typical else { continue }
        let hull = convexHullArea(rows: [rowExtents(labels, a, regions[a]), rowExtents(labels, b, regions[b])])
        guard hull > 0, Double(union) >= 0.9 * hull else { continue }
        sets.union(a, b)   // a < b: a stays the root
        area[a] = union
    }
    var out = labels
    sets.relabel(&out)
    return out
}

/// The leftmost and rightmost x of `label` (which has pixels) in each row of its box (`region`, from
/// top to bottom; min > max for a row it skips), for `convexHullArea`. Cost: one pass over the box.
func rowExtents(_ labels: LabelImage, _ label: Int, _ region: Region) -> (top: Int, min: [Int32], max: [Int32]) {
    var lo = [Int32](repeating: .max, count: region.height), hi = [Int32](repeating: .min, count: region.height)
    for y in region.y0...region.y1 {
        for x in region.x0...region.x1 where labels.labels[y * labels.width + x] == Int32(label) {
            lo[y - region.y0] = min(lo[y - region.y0], Int32(x)); hi[y - region.y0] = max(hi[y - region.y0], Int32(x))
        }
    }
    return (region.y0, lo, hi)
}

/// The convex hull of the pixel squares of one or more regions given as row extents (first row, then
/// the leftmost and rightmost x of each row; rows with min > max are empty): its vertices in the order
/// that turns the same way at each (the cross product of successive edges is positive, so a point is
/// inside when it lies on the positive side of every edge), without collinear vertices; no vertices
/// for no pixels. Andrew's monotone chain on the row-end corners. Cost: O(rows · log rows).
func convexHull(rows regions: [(top: Int, min: [Int32], max: [Int32])]) -> [(x: Double, y: Double)] {
    var points: [(x: Double, y: Double)] = []
    for region in regions {
        for (i, lo) in region.min.enumerated() where lo <= region.max[i] {
            let y = Double(region.top + i), hi = Double(region.max[i]) + 1
            points += [(Double(lo), y), (Double(lo), y + 1), (hi, y), (hi, y + 1)]
        }
    }
    points.sort { $0 < $1 }
    guard points.count >= 3 else { return [] }
    func cross(_ o: (x: Double, y: Double), _ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> Double {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }
    var hull: [(x: Double, y: Double)] = []
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
    return hull
}

/// Area of the convex hull of the pixel squares of one or more regions given as row extents
/// (`convexHull(rows:)`); 0 for no pixels. Cost: O(rows · log rows).
func convexHullArea(rows regions: [(top: Int, min: [Int32], max: [Int32])]) -> Double {
    polygonArea(convexHull(rows: regions))
}

/// Area of a simple polygon given by its vertices in order (the shoelace formula); 0 for fewer than 3.
func polygonArea(_ vertices: [(x: Double, y: Double)]) -> Double {
    guard vertices.count >= 3 else { return 0 }
    var twice = 0.0
    for i in vertices.indices {
        let p = vertices[i], q = vertices[(i + 1) % vertices.count]
        twice += p.x * q.y - q.x * p.y
    }
    return abs(twice) / 2
}
