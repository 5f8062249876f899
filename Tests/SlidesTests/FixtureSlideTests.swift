import Foundation
import ImageCodecs
@testable import Slides
import Testing

/// The three files from OpenSlide's test fixtures in `fixtures/slides/` (see fixtures/README.md).
@Suite struct FixtureSlideTests {
    @Test func aperioSVSThroughOpenSlide() throws {
        let path = fixture("slides/small.svs")
        #expect(Slide.isSlide(path: path))
        let slide = try Slide(path: path)
        #expect(slide.format == .openSlide(vendor: "aperio"))
        #expect(slide.format.description == "OpenSlide aperio")
        #expect(slide.width == 16 && slide.height == 16)
        #expect(slide.levels == [SlideLevel(width: 16, height: 16, downsample: 1, tileWidth: 64, tileHeight: 64)])
        let mpp = try #require(slide.micronsPerPixel)
        #expect(mpp.x == 0.499 && mpp.y == 0.499)

        let whole = try slide.wholeLevel(0)
        // Not blank: the CMU-1 crop is tissue (pink-purple), lighter at one corner.
        #expect(Set(whole.pixels).count > 50)
        // Every region is the same pixels as the whole level.
        for (x, y, w, h) in [(0, 0, 1, 1), (5, 3, 7, 9), (15, 15, 1, 1), (0, 8, 16, 8)] {
            try expectSame(slide.region(x: x, y: y, width: w, height: h), whole.region(x: x, y: y, width: w, height: h))
        }
        // libtiff's own decode of the same JPEG tile (ImageCodecs, first directory) agrees closely.
        let decoded = try ImageCodecs.read(path: path)
        let diff = difference(decoded, whole)
        #expect(diff.mean < 2 && diff.max <= 12, "OpenSlide vs libtiff: \(diff)")
    }

    @Test func genericPyramidalTIFFThroughLibtiff() throws {
        let path = fixture("slides/boxes.tiff")
        #expect(Slide.isSlide(path: path))
        let slide = try Slide(path: path)
        #expect(slide.format == .tiff)
        #expect(slide.levels.map { [$0.width, $0.height] } == [[300, 250], [150, 125], [75, 62], [37, 31]])
        #expect(slide.levels.allSatisfy { $0.tileWidth == 64 && $0.tileHeight == 64 })
        #expect(slide.levels[1].downsample == 2)
        #expect(abs(slide.levels[3].downsample - (300.0 / 37 + 250.0 / 31) / 2) < 1e-12)
        // Its resolution tags say 72 dpi (28.3465 px/cm): an image editor's default, not a microscope's.
        #expect(slide.micronsPerPixel == nil)

        // Level 0 equals the whole-image decode of ImageCodecs (first directory).
        try expectSame(slide.wholeLevel(0), ImageCodecs.read(path: path))
        // Levels 0 and 1 equal OpenSlide's reading of the same file (its generic-tiff reader), whole and in
        // regions that cross tile boundaries. (OpenSlide 3.4.1 with Debian's libtiff 4.5.0 misreads levels
        // 2 and 3, whose one or two tiles reach past the level: shifted and blank. Pillow's decode of every
        // level equals ours.)
        let openSlide = try OpenSlideReader(path: path, name: "boxes.tiff")
        #expect(openSlide.vendor == "generic-tiff")
        #expect(openSlide.levels.map { [$0.width, $0.height] } == slide.levels.map { [$0.width, $0.height] })
        for index in 0...1 {
            let level = slide.levels[index]
            let ours = try slide.wholeLevel(index)
            var theirs = RGBImage(width: level.width, height: level.height)
            try theirs.pixels.withUnsafeMutableBufferPointer { buffer throws(ImageError) in
                try openSlide.read(level: index, x: 0, y: 0, width: level.width, height: level.height, into: buffer.baseAddress!)
            }
            expectSame(ours, theirs, "level \(index)")
            try expectSame(slide.region(x: 20, y: 30, width: 70, height: 10, level: index), ours.region(x: 20, y: 30, width: 70, height: 10))
        }
        // The file's levels are box averages of level 0 (to within rounding): each read where it belongs.
        let level0 = try slide.wholeLevel(0)
        for index in 1..<4 {
            let level = slide.levels[index]
            let averaged = level0.boxDownscaled(by: 1 << index).region(x: 0, y: 0, width: level.width, height: level.height)
            #expect(try difference(slide.wholeLevel(index), averaged).max <= 1, "level \(index)")
            try expectSame(slide.region(x: level.width - 9, y: 2, width: 9, height: level.height - 2, level: index),
                           slide.wholeLevel(index).region(x: level.width - 9, y: 2, width: 9, height: level.height - 2))
        }
    }

    @Test func damagedSVSFailsWithOneLineWhenPixelsAreRead() throws {
        let path = fixture("slides/unreadable.svs")
        #expect(Slide.isSlide(path: path))
        let slide = try Slide(path: path)  // its structure is intact
        #expect(slide.format == .openSlide(vendor: "aperio"))
        #expect(slide.width == 16)
        let error = try #require(throws: ImageError.self) { try slide.region(x: 0, y: 0, width: 16, height: 16) }
        #expect(error.kind == .corrupt)
        expectOneLine(error, naming: "unreadable.svs")
        #expect(error.detail.contains("OpenSlide"))
        // OpenSlide's error state is final: a second read fails the same way, it does not return pixels.
        #expect(throws: ImageError.self) { try slide.region(x: 0, y: 0, width: 1, height: 1) }
    }
}
