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
/// Two passes over the image with a union–find table of provisional labels, then a renumbering so
/// labels follow raster order of first appearance — the same labels `connectedComponentsReference`
/// gives. Cost: O(width · height · α).
public func connectedComponents(_ image: BinaryImage, eightConnected: Bool = true) -> LabelImage {
    let w = image.width, h = image.height
    var labels = [Int32](repeating: 0, count: w * h)
    var parent: [Int32] = [0]
    func find(_ x: Int32) -> Int32 {
        var r = x
        while parent[Int(r)] != r { r = parent[Int(r)] }
        var c = x
        while parent[Int(c)] != r { let n = parent[Int(c)]; parent[Int(c)] = r; c = n }
        return r
    }
    func union(_ a: Int32, _ b: Int32) -> Int32 {
        let ra = find(a), rb = find(b)
        if ra == rb { return ra }
        if ra < rb { parent[Int(rb)] = ra; return ra }
        parent[Int(ra)] = rb
        return rb
    }
    image.bits.withUnsafeBufferPointer { bits in
        labels.withUnsafeMutableBufferPointer { lab in
            for y in 0..<h {
                let row = y * w
                for x in 0..<w where bits[row + x] != 0 {
                    var label: Int32 = 0
                    @inline(__always) func join(_ n: Int32) {
                        guard n != 0 else { return }
                        label = label == 0 ? n : union(label, n)
                    }
                    if x > 0 { join(lab[row + x - 1]) }
                    if y > 0 {
                        join(lab[row - w + x])
                        if eightConnected {
                            if x > 0 { join(lab[row - w + x - 1]) }
                            if x + 1 < w { join(lab[row - w + x + 1]) }
                        }
                    }
                    if label == 0 {
                        label = Int32(parent.count)
                        parent.append(label)
                    }
                    lab[row + x] = label
                }
            }
        }
    }
    // Resolve to roots, then renumber roots in order of first appearance.
    var final = [Int32](repeating: 0, count: parent.count)
    var next: Int32 = 0
    labels.withUnsafeMutableBufferPointer { lab in
        for i in 0..<lab.count where lab[i] != 0 {
            let root = Int(find(lab[i]))
            if final[root] == 0 { next += 1; final[root] = next }
            lab[i] = final[root]
        }
    }
    return LabelImage(width: w, height: h, labels: labels, count: Int(next))
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
