/// Items with rectangles in the plane, found by the rectangles they may meet: each item is filed in
/// the buckets of a square grid that its rectangle covers. A query returns every item filed in a
/// bucket the query meets (a superset of those that meet it: callers test exactly), so the cost of a
/// query is that of the items near it, not of all of them.
struct SpatialIndex: Sendable {
    /// Side of a bucket, in pixels.
    let cell: Double
    private var buckets: [SIMD2<Int>: [Int]] = [:]
    /// Items too large for the grid or with coordinates that are not finite (annotations come from a
    /// file): returned by every query.
    private var everywhere: [Int] = []
    /// The widest span of buckets an item is filed in, per axis; larger ones go to `everywhere`.
    static let maxSpan = 64

    init(cell: Double) {
        precondition(cell > 0, "bucket size must be positive")
        self.cell = cell
    }

    /// Files `item` under the rectangle (`x`, `y`, `width`, `height`); a point has size 0.
    mutating func insert(_ item: Int, x: Double, y: Double, width: Double, height: Double) {
        guard let (c0, c1, r0, r1) = span(x: x, y: y, width: width, height: height) else {
            everywhere.append(item)
            return
        }
        for r in r0...r1 { for c in c0...c1 { buckets[SIMD2(c, r), default: []].append(item) } }
    }

    /// The items filed in buckets that the rectangle meets, each once, in increasing order.
    func items(x: Double, y: Double, width: Double, height: Double) -> [Int] {
        var found = Set(everywhere)
        if let (c0, c1, r0, r1) = span(x: x, y: y, width: width, height: height) {
            for r in r0...r1 { for c in c0...c1 { found.formUnion(buckets[SIMD2(c, r)] ?? []) } }
        }
        return found.sorted()
    }

    /// The bucket columns and rows a rectangle covers; nil when it is not finite, has a negative size
    /// or covers more than `maxSpan` buckets across or down.
    private func span(x: Double, y: Double, width: Double, height: Double) -> (Int, Int, Int, Int)? {
        let x0 = (x / cell).rounded(.down), x1 = ((x + width) / cell).rounded(.down)
        let y0 = (y / cell).rounded(.down), y1 = ((y + height) / cell).rounded(.down)
        guard x0.isFinite, x1.isFinite, y0.isFinite, y1.isFinite, width >= 0, height >= 0,
              x1 - x0 <= Double(Self.maxSpan), y1 - y0 <= Double(Self.maxSpan),
              abs(x0) < 1e15, abs(y0) < 1e15 else { return nil }
        return (Int(x0), Int(x1), Int(y0), Int(y1))
    }
}
