import Foundation
import ImageCodecs
@testable import Slides
import Testing

/// Slides written by `PyramidTIFFWriter` from a `FieldMosaic`, read back by `Slide`.
@Suite struct GeneratedSlideTests {
    /// Three distinct 100×70 fields; a 3×2 mosaic cut to 290×140 (the last column of fields 90 px wide).
    static let fields = (0..<3).map { patterned(width: 100, height: 70, seed: $0) }
    static let mosaic = FieldMosaic(fieldWidth: 100, fieldHeight: 70, fieldCount: 3, width: 290, height: 140)

    /// The whole mosaic, built the straightforward way.
    static func expectedMosaic() -> RGBImage {
        var image = RGBImage(width: mosaic.width, height: mosaic.height)
        for y in 0..<mosaic.height {
            for x in 0..<mosaic.width {
                let field = fields[mosaic.field(column: x / 100, row: y / 70)]
                image[x, y] = field[x % 100, y % 70]
            }
        }
        return image
    }

    static func write(_ path: String, compression: PyramidTIFFWriter.Compression, tileSize: Int = 32,
                      progress: (Double) -> Void = { _ in }) throws -> [SlideLevel] {
        try PyramidTIFFWriter.write(to: path, width: mosaic.width, height: mosaic.height, tileSize: tileSize,
                                    compression: compression, micronsPerPixel: 0.25, progress: progress) { y, count throws(ImageError) in
            try mosaic.rows(from: y, count: count) { index throws(ImageError) in fields[index] }
        }
    }

    @Test func mosaicPlacesFieldsRowByRowAndWraps() throws {
        let m = FieldMosaic(fieldWidth: 10, fieldHeight: 5, fieldCount: 4, width: 25, height: 12)
        #expect(m.columns == 3 && m.rows == 3)
        #expect((0..<3).flatMap { row in (0..<3).map { m.field(column: $0, row: row) } } == [0, 1, 2, 3, 0, 1, 2, 3, 0])
        let g = FieldMosaic(fieldWidth: 1280, fieldHeight: 960, fieldCount: 279, gigapixels: 2)
        #expect(g.width % 1280 == 0 && g.height % 960 == 0)
        #expect(g.width * g.height >= 2_000_000_000 && g.width * g.height < 2_000_000_000 + g.width * 960)
        #expect(abs(Double(g.width) / Double(g.height) - 2) < 0.1)
        // A band crossing two field rows loads each field it crosses once.
        var loads: [Int] = []
        let band = try Self.mosaic.rows(from: 60, count: 20) { index throws(ImageError) in
            loads.append(index)
            return Self.fields[index]
        }
        #expect(loads == [0, 1, 2, 0, 1, 2])
        expectSame(band, Self.expectedMosaic().region(x: 0, y: 60, width: 290, height: 20))
    }

    @Test func losslessSlideReadsBackExactlyAndLevelsAreBoxAverages() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/mosaic.tiff"
        var fractions: [Double] = []
        let written = try Self.write(path, compression: .deflate, progress: { fractions.append($0) })
        #expect(fractions == fractions.sorted() && fractions.last == 1)
        // No hidden partial file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["mosaic.tiff"])

        #expect(Slide.isSlide(path: path))
        let slide = try Slide(path: path)
        #expect(slide.format == .bigTIFF)
        #expect(slide.levels == written)
        // 290×140 → 145×70 → 73×35 → 37×18 (fits a 32 px tile? no: 37 > 32) → 19×9.
        #expect(slide.levels.map { [$0.width, $0.height] } == [[290, 140], [145, 70], [73, 35], [37, 18], [19, 9]])
        let mpp = try #require(slide.micronsPerPixel)
        #expect(abs(mpp.x - 0.25) < 1e-6 && abs(mpp.y - 0.25) < 1e-6)

        // Level 0, region by region (blocks that do not line up with the 32 px tiles), is the mosaic.
        let expected = Self.expectedMosaic()
        for y in stride(from: 0, to: 140, by: 23) {
            for x in stride(from: 0, to: 290, by: 37) {
                let w = min(37, 290 - x), h = min(23, 140 - y)
                try expectSame(slide.region(x: x, y: y, width: w, height: h), expected.region(x: x, y: y, width: w, height: h),
                               "region at (\(x), \(y))")
            }
        }
        // Each level is exactly the 2×2 box average of the one above.
        var above = try slide.wholeLevel(0)
        expectSame(above, expected)
        for level in 1..<slide.levels.count {
            let this = try slide.wholeLevel(level)
            expectSame(this, above.boxDownscaled(by: 2), "level \(level)")
            above = this
        }
    }

    @Test func jpegSlideIsCloseToItsSourceAndOpenSlideReadsIt() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/smooth.tiff"
        let source = smooth(width: 200, height: 150, seed: 2)
        try PyramidTIFFWriter.write(to: path, width: 200, height: 150, tileSize: 64, compression: .jpeg(quality: 95)) { y, count throws(ImageError) in
            source.region(x: 0, y: y, width: 200, height: count)
        }
        let slide = try Slide(path: path)
        #expect(slide.levels.map { [$0.width, $0.height] } == [[200, 150], [100, 75], [50, 38]])
        #expect(slide.micronsPerPixel == nil)
        let level0 = try slide.wholeLevel(0)
        let diff = difference(level0, source)
        #expect(diff.mean < 2, "JPEG q95 vs source: \(diff)")
        // Level 1 is the box average of level 0 as stored, to within JPEG's error.
        #expect(difference(try slide.wholeLevel(1), level0.boxDownscaled(by: 2)).mean < 2)

        // OpenSlide opens the file as a generic tiled TIFF with the same levels and (libjpeg's) pixels.
        let openSlide = try OpenSlideReader(path: path, name: "smooth.tiff")
        #expect(openSlide.vendor == "generic-tiff")
        #expect(openSlide.levels.map { [$0.width, $0.height] } == slide.levels.map { [$0.width, $0.height] })
        for (index, level) in slide.levels.enumerated() {
            var theirs = RGBImage(width: level.width, height: level.height)
            try theirs.pixels.withUnsafeMutableBufferPointer { buffer throws(ImageError) in
                try openSlide.read(level: index, x: 0, y: 0, width: level.width, height: level.height, into: buffer.baseAddress!)
            }
            try expectSame(theirs, slide.wholeLevel(index), "level \(index)")
        }
    }

    @Test func rowsErrorsPassThroughAndLeaveNoFile() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/broken.tiff"
        let error = try #require(throws: ImageError.self) {
            try PyramidTIFFWriter.write(to: path, width: 100, height: 100, tileSize: 32) { y, count throws(ImageError) in
                if y >= 64 { throw ImageError(.corrupt, file: "field.jpg", "corrupt JPEG data") }
                return RGBImage(width: 100, height: count)
            }
        }
        #expect(error.description == "field.jpg: corrupt JPEG data")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)

        let unwritable = try #require(throws: ImageError.self) {
            try PyramidTIFFWriter.write(to: folder + "/missing/x.tiff", width: 10, height: 10, tileSize: 16) { _, count throws(ImageError) in
                RGBImage(width: 10, height: count)
            }
        }
        #expect(unwritable.kind == .writeFailed)
        expectOneLine(unwritable, naming: "x.tiff")
    }
}
