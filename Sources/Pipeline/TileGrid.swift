/// The tiles a slide is analysed in. The slide is cut into a grid of *cores* that cover it without
/// overlap; each tile is read with a *margin* around its core (clipped to the slide), at least one
/// cell diameter wide, so that a cell whose centroid lies in the core is whole in the tile. A cell
/// belongs to exactly one tile: the one whose core holds its centroid (`owner`). So no cell is
/// counted twice and none is lost on a seam, whatever the tile size.
public struct TileGrid: Sendable, Equatable {
    /// A rectangle in slide pixels (level 0): top-left corner and size.
    public struct Rect: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }
        /// Whether (px, py) lies in the rectangle (left and top edges in, right and bottom out).
        public func contains(_ px: Double, _ py: Double) -> Bool {
            px >= Double(x) && py >= Double(y) && px < Double(x + width) && py < Double(y + height)
        }
    }

    public struct Tile: Sendable, Equatable {
        /// Position in reading order (row by row), from 0.
        public var index: Int
        public var column: Int, row: Int
        /// The part of the slide this tile answers for.
        public var core: Rect
        /// The part read and segmented: the core grown by the margin, clipped to the slide.
        public var read: Rect
    }

    public let width: Int, height: Int
    /// Side of a core (the last column and row may be narrower).
    public let coreSize: Int
    public let margin: Int
    /// Reads start at multiples of this (1: anywhere).
    public let alignment: Int
    public let columns: Int, rows: Int

    /// A grid over a `width × height` slide with cores of `coreSize` px and reads `margin` px wider on
    /// each side, their left and top edges moved out to a multiple of `alignment` (up to
    /// `alignment − 1` px more margin). With the segmenter's shrink factor as alignment, a tile is
    /// shrunk on the same pixel grid as the whole slide would be, so its cells' outlines are the
    /// whole image's. Needs `width, height, coreSize, alignment ≥ 1` and `margin ≥ 0`.
    public init(width: Int, height: Int, coreSize: Int, margin: Int, alignment: Int = 1) {
        precondition(width >= 1 && height >= 1 && coreSize >= 1 && margin >= 0 && alignment >= 1, "bad tile grid")
        self.width = width
        self.height = height
        self.coreSize = coreSize
        self.margin = margin
        self.alignment = alignment
        columns = (width + coreSize - 1) / coreSize
        rows = (height + coreSize - 1) / coreSize
    }

    public var count: Int { columns * rows }

    /// The tile at (`column`, `row`).
    public func tile(column: Int, row: Int) -> Tile {
        let x = column * coreSize, y = row * coreSize
        let core = Rect(x: x, y: y, width: min(coreSize, width - x), height: min(coreSize, height - y))
        let x0 = max(0, x - margin) / alignment * alignment, y0 = max(0, y - margin) / alignment * alignment
        let x1 = min(width, x + core.width + margin), y1 = min(height, y + core.height + margin)
        return Tile(index: row * columns + column, column: column, row: row, core: core,
                    read: Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
    }

    /// Every tile, in reading order.
    public var tiles: [Tile] { (0..<rows).flatMap { r in (0..<columns).map { c in tile(column: c, row: r) } } }

    /// Index of the tile whose core holds the point (px, py) of the slide; nil outside the slide.
    public func owner(_ px: Double, _ py: Double) -> Int? {
        guard px >= 0, py >= 0, px < Double(width), py < Double(height) else { return nil }
        return Int(py) / coreSize * columns + Int(px) / coreSize
    }

    /// The indices of `tiles` in an order that spreads over them, as a microscopist moves over the
    /// monolayer rather than along one row: each next tile is the one farthest (in grid steps) from
    /// those already taken, ties broken by reading order. So the first tiles of a count to a target
    /// sample the whole counting area. Cost: O(n²) for n tiles (a few ms for 10,000).
    public static func spread(_ tiles: [Tile]) -> [Int] {
        guard !tiles.isEmpty else { return [] }
        var distance = [Int](repeating: .max, count: tiles.count)
        var order: [Int] = []
        order.reserveCapacity(tiles.count)
        // Start at the tile nearest the centre of those given.
        let cx = tiles.reduce(0) { $0 + $1.column } * 2 / tiles.count, cy = tiles.reduce(0) { $0 + $1.row } * 2 / tiles.count
        var next = tiles.indices.min { a, b in
            let da = abs(2 * tiles[a].column - cx) + abs(2 * tiles[a].row - cy)
            let db = abs(2 * tiles[b].column - cx) + abs(2 * tiles[b].row - cy)
            return da != db ? da < db : a < b
        }!
        while true {
            order.append(next)
            distance[next] = -1
            var best = -1
            for i in tiles.indices where distance[i] >= 0 {
                let d = (tiles[i].column - tiles[next].column) * (tiles[i].column - tiles[next].column)
                    + (tiles[i].row - tiles[next].row) * (tiles[i].row - tiles[next].row)
                distance[i] = min(distance[i], d)
                if best < 0 || distance[i] > distance[best] { best = i }
            }
            guard best >= 0 else { return order }
            next = best
        }
    }
}
