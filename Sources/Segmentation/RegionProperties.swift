/// Measurements of labelled regions, in the manner of scikit-image's `regionprops`.

/// What `RegionProperties` measures of one label. For a label with no pixels (a label number that
/// no pixel carries, e.g. after merging): `area` 0, the box empty (`x0 = y0 = Int.max`,
/// `x1 = y1 = −1`), `boundaryPixels` 0, `touchesBorder` false, and the centroid NaN.
struct Region: Equatable {
    /// Number of pixels.
    var area = 0
    /// Bounding box: the smallest and largest x and y of the pixels, inclusive.
    var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
    /// Sums of x and of y over the pixels (first moments; exact).
    var sumX = 0, sumY = 0
    /// Pixels on the image edge or with a 4-neighbour (left, right, above, below) that carries
    /// another label, background included: the region's inner outline, used as its perimeter.
    var boundaryPixels = 0
    /// Whether a pixel lies on the image edge (first or last row or column).
    var touchesBorder = false

    /// Box width and height in pixels (≤ 0 for no pixels).
    var width: Int { x1 - x0 + 1 }
    var height: Int { y1 - y0 + 1 }
    /// Centre of mass: `sumX / area`, `sumY / area`.
    var centroidX: Double { Double(sumX) / Double(area) }
    var centroidY: Double { Double(sumY) / Double(area) }
}

/// The `Region` of every label `1…count` of a `LabelImage`, and, when planes are given, the sum of
/// each plane over each label.
///
/// Computed in one pass over the image, run by run along each row, plus one pass per plane; 0 is
/// background and is not measured. Intensity sums are accumulated in `Double` in raster order, so
/// they equal those of a plain loop over the pixels. Cost: O(width · height · (1 + planes)) time,
/// O(count · (1 + planes)) memory.
struct RegionProperties {
    /// Indexed by label; `regions[0]` (background) stays empty.
    private var regions: [Region]
    /// Sum of plane `p` over label `l` at `[l · planes + p]`.
    private var sums: [Double]
    private let planes: Int

    /// Measures every label of `labels` (each in `0…labels.count`), summing each of `intensity`
    /// (planes of the same size) over each label.
    init(_ labels: LabelImage, intensity: [Plane] = []) {
        let w = labels.width, h = labels.height, count = labels.count, planes = intensity.count
        precondition(intensity.allSatisfy { $0.width == w && $0.height == h })
        var regions = [Region](repeating: Region(), count: count + 1)
        labels.labels.withUnsafeBufferPointer { lab in
        regions.withUnsafeMutableBufferPointer { regions in
            for y in 0..<h {
                let row = y * w
                let edgeRow = y == 0 || y == h - 1
                var x = 0
                while x < w {
                    let l = lab[row + x]
                    guard l != 0 else { x += 1; continue }
                    precondition(UInt32(bitPattern: l) <= UInt32(count), "label outside 1…count")
                    // A run x..<end of label l. Its first and last pixels are boundary pixels (their
                    // left / right neighbour is another label or the image edge); the others are when
                    // the pixel above or below is another label.
                    var end = x + 1
                    while end < w && lab[row + end] == l { end += 1 }
                    let k = Int(l), n = end - x
                    regions[k].area += n
                    regions[k].sumX += n * (x + end - 1) / 2
                    regions[k].sumY += n * y
                    regions[k].x0 = min(regions[k].x0, x); regions[k].x1 = max(regions[k].x1, end - 1)
                    regions[k].y0 = min(regions[k].y0, y); regions[k].y1 = max(regions[k].y1, y)
                    if edgeRow || x == 0 || end == w { regions[k].touchesBorder = true }
                    if edgeRow {
                        regions[k].boundaryPixels += n
                    } else {
                        var boundary = min(n, 2)
                        var m = x + 1
                        while m < end - 1 {
                            boundary &+= (lab[row - w + m] ^ l) | (lab[row + w + m] ^ l) != 0 ? 1 : 0
                            m &+= 1
                        }
                        regions[k].boundaryPixels += boundary
                    }
                    x = end
                }
            }
        }}
        var sums = [Double](repeating: 0, count: (count + 1) * planes)
        for (p, plane) in intensity.enumerated() {
            labels.labels.withUnsafeBufferPointer { lab in
            plane.values.withUnsafeBufferPointer { values in
            sums.withUnsafeMutableBufferPointer { sums in
                // Run by run in raster order, each pixel added to its label's running sum.
                var i = 0
                while i < lab.count {
                    let l = lab[i]
                    guard l != 0 else { i += 1; continue }
                    var sum = sums[Int(l) * planes + p]
                    repeat { sum += Double(values[i]); i += 1 } while i < lab.count && lab[i] == l
                    sums[Int(l) * planes + p] = sum
                }
            }}}
        }
        self.regions = regions
        self.sums = sums
        self.planes = planes
    }

    /// Number of labels (`labels.count` of the image measured).
    var count: Int { regions.count - 1 }

    subscript(label: Int) -> Region { regions[label] }

    /// The sum of `intensity[plane]` over the pixels of `label` (0 for no pixels).
    func intensitySum(_ label: Int, plane: Int) -> Double { sums[label * planes + plane] }
}

/// Two labels `a < b` in contact (see `regionContacts`).
struct LabelPair: Hashable {
    var a: Int
    var b: Int
}

/// For each pair of labels `a < b` that touch, the number of 4-adjacent pixel pairs with one pixel in
/// `a` and the other in `b`: the length of their shared boundary in pixel edges (what each counts
/// among its pixels' 4-neighbours carrying the other label). Background (0) is no region.
/// Cost: one pass, and a dictionary update per such pixel pair.
func regionContacts(_ labels: LabelImage) -> [LabelPair: Int] {
    let w = labels.width, h = labels.height
    var contacts: [LabelPair: Int] = [:]
    // Label a's pixel next to a pixel of label b.
    @inline(__always) func touch(_ a: Int32, _ b: Int32, _ contacts: inout [LabelPair: Int]) {
        if b != 0 && b != a { contacts[LabelPair(a: Int(min(a, b)), b: Int(max(a, b))), default: 0] += 1 }
    }
    labels.labels.withUnsafeBufferPointer { lab in
        for y in 0..<h {
            let row = y * w
            var x = 0
            while x < w {
                let l = lab[row + x]
                guard l != 0 else { x += 1; continue }
                // A run x..<end of label l: its right neighbour, and the pixels below it.
                var end = x + 1
                while end < w && lab[row + end] == l { end += 1 }
                if end < w { touch(l, lab[row + end], &contacts) }
                if y + 1 < h { for m in x..<end { touch(l, lab[row + w + m], &contacts) } }
                x = end
            }
        }
    }
    return contacts
}
