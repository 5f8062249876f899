import Testing
@testable import Pipeline

/// The seam rule: cores cover the slide exactly once, reads add the margin, every point has one owner.
@Suite struct TileGridTests {
    @Test func coresTileTheSlideExactlyOnceAndReadsAddTheMargin() {
        for (w, h, core, margin) in [(1000, 700, 256, 40), (256, 256, 256, 10), (1, 1, 64, 5), (513, 257, 128, 200)] {
            let grid = TileGrid(width: w, height: h, coreSize: core, margin: margin)
            var covered = [Int](repeating: 0, count: w * h)
            for tile in grid.tiles {
                #expect(tile.index == tile.row * grid.columns + tile.column)
                for y in tile.core.y..<(tile.core.y + tile.core.height) {
                    for x in tile.core.x..<(tile.core.x + tile.core.width) { covered[y * w + x] += 1 }
                }
                // The read is the core grown by the margin, clipped to the slide.
                #expect(tile.read.x == max(0, tile.core.x - margin) && tile.read.y == max(0, tile.core.y - margin))
                #expect(tile.read.x + tile.read.width == min(w, tile.core.x + tile.core.width + margin))
                #expect(tile.read.y + tile.read.height == min(h, tile.core.y + tile.core.height + margin))
            }
            #expect(covered.allSatisfy { $0 == 1 }, "\(w)×\(h) core \(core)")
        }
    }

    /// Aligned reads start at a multiple of the alignment (the working shrink factor), at most
    /// `alignment − 1` px before the unaligned start, and still end where the margin says.
    @Test func alignedReadsStartOnTheShrinkGrid() {
        for alignment in [1, 2, 3, 5, 7] {
            let plain = TileGrid(width: 2000, height: 1500, coreSize: 512, margin: 73)
            let grid = TileGrid(width: 2000, height: 1500, coreSize: 512, margin: 73, alignment: alignment)
            for (a, b) in zip(grid.tiles, plain.tiles) {
                #expect(a.core == b.core)
                #expect(a.read.x % alignment == 0 && a.read.y % alignment == 0)
                #expect(a.read.x <= b.read.x && b.read.x - a.read.x < alignment && a.read.y <= b.read.y && b.read.y - a.read.y < alignment)
                #expect(a.read.x + a.read.width == b.read.x + b.read.width && a.read.y + a.read.height == b.read.y + b.read.height)
            }
        }
    }

    @Test func everyPointHasOneOwnerWhoseCoreHoldsIt() {
        let grid = TileGrid(width: 1000, height: 700, coreSize: 256, margin: 40)
        let tiles = grid.tiles
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let x = Double.random(in: 0..<1000, using: &rng), y = Double.random(in: 0..<700, using: &rng)
            let owners = tiles.filter { $0.core.contains(x, y) }.map(\.index)
            #expect(owners == [grid.owner(x, y)!])
        }
        // Points on a core's edge belong to the tile right of / below it.
        #expect(grid.owner(256, 0) == 1 && grid.owner(255.999, 0) == 0 && grid.owner(0, 256) == grid.columns)
        #expect(grid.owner(-0.1, 5) == nil && grid.owner(1000, 5) == nil && grid.owner(5, 700) == nil)
    }

    @Test func spreadVisitsEveryTileOnceAndCoversTheSlideEarly() {
        let grid = TileGrid(width: 2560, height: 2560, coreSize: 256, margin: 20)
        let tiles = grid.tiles
        let order = TileGrid.spread(tiles)
        #expect(order.sorted() == Array(tiles.indices))
        // The first nine tiles fall in nine different cells of a 3 × 3 division of the slide.
        let cells = Set(order.prefix(9).map { (tiles[$0].column * 3 / grid.columns, tiles[$0].row * 3 / grid.rows) }.map { "\($0)" })
        #expect(cells.count >= 7, "\(order.prefix(9).map { (tiles[$0].column, tiles[$0].row) })")
        #expect(TileGrid.spread([]) == [])
    }
}
