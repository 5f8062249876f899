import CTIFF
import Dispatch
import Foundation
import ImageCodecs
@testable import Slides
import Testing

/// `PyramidTIFFWriter.Builder`: a pyramid from JPEG tiles given out of order, from several threads.
@Suite struct PyramidBuilderTests {
    /// A 300×170 image in tiles of 64×32 (levels 0–1 given: 64×32 and 32×16 tiles), so the last
    /// column and row of tiles are cut by the image's edge.
    static let image = smooth(width: 300, height: 170, seed: 2)

    /// Every tile of the given levels of `builder`, made from `image` the way a caller does: level k's
    /// tile (c, r) is the box average, k times, of the level-0 area it covers.
    static func tiles(_ builder: PyramidTIFFWriter.Builder) throws -> [(level: Int, column: Int, row: Int, jpeg: [UInt8])] {
        var out: [(Int, Int, Int, [UInt8])] = []
        for k in 0..<builder.tileLevels {
            let level = builder.levels[k], tw = level.tileWidth!, th = level.tileHeight!
            var reduced = image
            for _ in 0..<k { reduced = reduced.boxDownscaled(by: 2) }
            #expect(reduced.width == level.width && reduced.height == level.height)
            for row in 0..<((level.height + th - 1) / th) {
                for column in 0..<((level.width + tw - 1) / tw) {
                    let part = reduced.region(x: column * tw, y: row * th, width: min(tw, level.width - column * tw),
                                              height: min(th, level.height - row * th))
                    out.append((k, column, row, try PyramidTIFFWriter.jpegTile(part, tileWidth: tw, tileHeight: th, quality: 90)))
                }
            }
        }
        return out
    }

    static func build(_ path: String, order: (inout [(level: Int, column: Int, row: Int, jpeg: [UInt8])]) -> Void,
                      threads: Int = 1) throws -> [(level: Int, column: Int, row: Int, jpeg: [UInt8])] {
        let builder = try PyramidTIFFWriter.Builder(path: path, width: 300, height: 170, tileWidth: 64, tileHeight: 32,
                                                    tileLevels: 2, quality: 90, micronsPerPixel: 0.25)
        var tiles = try tiles(builder)
        order(&tiles)
        let all = tiles
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in stride(from: thread, to: all.count, by: threads) {
                try! builder.add(all[i].jpeg, level: all[i].level, column: all[i].column, row: all[i].row)
            }
        }
        var made: [(level: Int, column: Int, row: Int, jpeg: [UInt8])] = []
        try builder.finish { made.append(($0, $1, $2, $3)) }
        return made
    }

    @Test func outOfOrderTilesGiveTheSameFileAsInOrder() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inOrder = folder + "/in-order.tiff", shuffled = folder + "/shuffled.tiff"
        let made = try Self.build(inOrder, order: { _ in })
        var generator = SystemRandomNumberGenerator()
        let madeShuffled = try Self.build(shuffled, order: { $0.shuffle(using: &generator) }, threads: 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: inOrder)) == Data(contentsOf: URL(fileURLWithPath: shuffled)))
        #expect(made.map(\.jpeg) == madeShuffled.map(\.jpeg))
        // Nothing else is left in the folder (the scratch file is unlinked, the partial file renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["in-order.tiff", "shuffled.tiff"])
    }

    @Test func pyramidReadsBackWithSlideAndOpenSlide() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/overlay.tiff"
        let made = try Self.build(path, order: { $0.reverse() })
        let slide = try Slide(path: path)
        #expect(slide.format == .bigTIFF)
        // 300×170 → 150×85 → 75×43 → 38×22 (fits a 64×32 tile); levels 0–1 given, 2–3 made.
        #expect(slide.levels.map { [$0.width, $0.height, $0.tileWidth!, $0.tileHeight!] }
                == [[300, 170, 64, 32], [150, 85, 32, 16], [75, 43, 64, 32], [38, 22, 64, 32]])
        #expect(made.map(\.level) == [2, 2, 2, 2, 3])
        #expect(abs(slide.micronsPerPixel!.x - 0.25) < 1e-6)
        // Level 0 is the image, to JPEG's precision.
        let level0 = try slide.region(x: 0, y: 0, width: 300, height: 170)
        let d = difference(level0, Self.image)
        #expect(d.mean < 2 && d.max < 80, "\(d)")
        // Level 2 is the box average of level 1 as stored.
        let level1 = try slide.region(x: 0, y: 0, width: 150, height: 85, level: 1)
        let level2 = try slide.region(x: 0, y: 0, width: 75, height: 43, level: 2)
        #expect(difference(level2, level1.boxDownscaled(by: 2)).mean < 2)

        // OpenSlide opens it as a generic tiled TIFF with the same levels and pixels.
        #expect(OpenSlideReader.vendor(of: path) == "generic-tiff")
        let openSlide = try OpenSlideReader(path: path, name: "overlay.tiff")
        #expect(openSlide.levels.map { [$0.width, $0.height] } == slide.levels.map { [$0.width, $0.height] })
        let region = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * 300 * 170)
        defer { region.deallocate() }
        try openSlide.read(level: 0, x: 0, y: 0, width: 300, height: 170, into: region)
        let viaOpenSlide = RGBImage(width: 300, height: 170, pixels: Array(UnsafeBufferPointer(start: region, count: 3 * 300 * 170)))
        #expect(difference(viaOpenSlide, level0).max <= 2)
    }

    @Test func storedTilesAreTheJPEGsGivenAndDecodeAlone() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/overlay.tiff"
        _ = try Self.build(path, order: { _ in })
        let builder = try PyramidTIFFWriter.Builder(path: folder + "/unused.tiff", width: 300, height: 170, tileWidth: 64,
                                                    tileHeight: 32, tileLevels: 2, quality: 90)
        let given = try Self.tiles(builder)
        let tiff = try #require(TIFFOpen(path, "r"))
        defer { TIFFClose(tiff) }
        var raw = [UInt8](repeating: 0, count: 1 << 20)
        for tile in given where tile.level == 0 {
            let index = TIFFComputeTile(tiff, UInt32(tile.column * 64), UInt32(tile.row * 32), 0, 0)
            let count = raw.withUnsafeMutableBytes { TIFFReadRawTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
            #expect(Array(raw.prefix(Int(count))) == tile.jpeg)
        }
        // A tile is a JPEG file on its own, of the tile's size.
        let decoded = try ImageCodecs.decode(given[0].jpeg, name: "tile.jpg")
        #expect(decoded.width == 64 && decoded.height == 32)
    }

    @Test func aMissingTileFailsWithOneLineAndLeavesNoFile() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/overlay.tiff"
        let builder = try PyramidTIFFWriter.Builder(path: path, width: 300, height: 170, tileWidth: 64, tileHeight: 32, tileLevels: 2)
        for tile in try Self.tiles(builder).dropLast() { try builder.add(tile.jpeg, level: tile.level, column: tile.column, row: tile.row) }
        #expect {
            try builder.finish { _, _, _, _ in }
        } throws: { error in
            "\(error)" == "overlay.tiff: tile (4, 5) of level 1 was never given"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}
