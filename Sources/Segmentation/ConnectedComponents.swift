/// Connected regions of a binary image, labelled `1…count` in raster order of their first pixel
/// (0 = background).
public struct LabelImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var labels: [Int32]
    public var count: Int

    public init(width: Int, height: Int, labels: [Int32], count: Int) {
        self.width = width
        self.height = height
        self.labels = labels
        self.count = count
    }
}

/// Labels the connected components of `image` (8-connectivity by default, else 4).
///
/// One pass giving each pixel a provisional label, joining the labels of touching pixels in
/// `DisjointSets`, then a renumbering so labels follow raster order of first appearance — the same
/// labels `connectedComponentsReference` gives. Cost: O(width · height · α).
public func connectedComponents(_ image: BinaryImage, eightConnected: Bool = true) -> LabelImage {
    let w = image.width, h = image.height
    var labels = LabelImage(width: w, height: h, labels: [Int32](repeating: 0, count: w * h), count: 0)
    // Provisional labels: at most one for every other pixel, plus the unused 0.
    var sets = DisjointSets(capacity: w * h / 2 + 2)
    sets.add()
    // A pixel's label so far joined with a visited neighbour's label `n` (0: none).
    @inline(__always) func join(_ label: Int32, _ n: Int32, _ sets: inout DisjointSets) -> Int32 {
        n == 0 ? label : label == 0 ? n : Int32(sets.union(Int(label), Int(n)))
    }
    image.bits.withUnsafeBufferPointer { bits in
    labels.labels.withUnsafeMutableBufferPointer { lab in
        for y in 0..<h {
            let row = y * w
            for x in 0..<w where bits[row + x] != 0 {
                var label: Int32 = x > 0 ? lab[row + x - 1] : 0
                if y > 0 {
                    label = join(label, lab[row - w + x], &sets)
                    if eightConnected {
                        if x > 0 { label = join(label, lab[row - w + x - 1], &sets) }
                        if x + 1 < w { label = join(label, lab[row - w + x + 1], &sets) }
                    }
                }
                if label == 0 { label = Int32(sets.add()) }
                lab[row + x] = label
            }
        }
    }}
    labels.count = sets.count - 1
    sets.relabel(&labels)
    return labels
}

/// Plain reference for `connectedComponents`: breadth-first flood fill from each unlabelled pixel in
/// raster order. Cost: O(width · height); kept simple for tests.
public func connectedComponentsReference(_ image: BinaryImage, eightConnected: Bool = true) -> LabelImage {
    let w = image.width, h = image.height
    var labels = [Int32](repeating: 0, count: w * h)
    var count: Int32 = 0
    let offsets = eightConnected
        ? [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]
        : [(0, -1), (-1, 0), (1, 0), (0, 1)]
    for start in 0..<(w * h) where image.bits[start] != 0 && labels[start] == 0 {
        count += 1
        labels[start] = count
        var queue = [start]
        var head = 0
        while head < queue.count {
            let p = queue[head]; head += 1
            let px = p % w, py = p / w
            for (dx, dy) in offsets {
                let nx = px + dx, ny = py + dy
                guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                let q = ny * w + nx
                if image.bits[q] != 0 && labels[q] == 0 { labels[q] = count; queue.append(q) }
            }
        }
    }
    return LabelImage(width: w, height: h, labels: labels, count: Int(count))
}
