import Foundation
import ImageCodecs
import Slides
import Testing

/// Regions at and beyond the edges, damaged files, files that are not slides, and reads from two threads.
@Suite struct RobustnessTests {
    /// A lossless 3×2-field test slide (290×140, 32 px tiles) in `folder`.
    static func losslessSlide(in folder: String, name: String = "slide.tiff") throws -> String {
        let path = folder + "/" + name
        _ = try GeneratedSlideTests.write(path, compression: .deflate)
        return path
    }

    @Test func regionsAtTheEdgesAreReadAndRegionsOutsideAreErrors() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let slide = try Slide(path: try Self.losslessSlide(in: folder), maxRegionPixels: 10_000)
        let expected = GeneratedSlideTests.expectedMosaic()
        // The last pixel, the last row and column, a partial edge tile.
        try expectSame(slide.region(x: 289, y: 139, width: 1, height: 1), expected.region(x: 289, y: 139, width: 1, height: 1))
        try expectSame(slide.region(x: 0, y: 139, width: 290, height: 1), expected.region(x: 0, y: 139, width: 290, height: 1))
        try expectSame(slide.region(x: 289, y: 0, width: 1, height: 140), expected.region(x: 289, y: 0, width: 1, height: 140))
        try expectSame(slide.region(x: 18, y: 8, width: 1, height: 1, level: 4), slide.wholeLevel(4).region(x: 18, y: 8, width: 1, height: 1))

        for (x, y, w, h, level) in [(-1, 0, 10, 10, 0), (0, -1, 10, 10, 0), (281, 0, 10, 10, 0), (0, 131, 10, 10, 0),
                                    (290, 0, 1, 1, 0), (0, 0, 0, 10, 0), (0, 0, 10, -3, 0), (140, 0, 10, 10, 1),
                                    (0, 0, 1, 1, 5), (0, 0, 1, 1, -1), (Int.max, Int.max, Int.max, Int.max, 0)] {
            let error = try #require(throws: ImageError.self) { try slide.region(x: x, y: y, width: w, height: h, level: level) }
            #expect(error.kind == .unsupported, "\(error)")
            expectOneLine(error, naming: "slide.tiff")
        }
        let tooLarge = try #require(throws: ImageError.self) { try slide.region(x: 0, y: 0, width: 101, height: 100) }
        #expect(tooLarge.kind == .tooLarge)
        expectOneLine(tooLarge, naming: "slide.tiff")
    }

    @Test func truncatedSlidesFailWithOneLineNeverWrongPixels() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try Self.losslessSlide(in: folder)))
        let expected = GeneratedSlideTests.expectedMosaic()
        for length in [1, 7, 8, 15, 16, 100, bytes.count / 4, bytes.count / 2, bytes.count * 3 / 4, bytes.count - 8, bytes.count - 1] {
            let path = folder + "/cut.tiff"
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                let slide = try Slide(path: path)
                // If the structure survived, every level either reads correctly or fails with one line.
                for level in slide.levels.indices {
                    do {
                        let image = try slide.wholeLevel(level)
                        if level == 0 { expectSame(image, expected, "cut at \(length)") }
                    } catch {
                        expectOneLine(error, naming: "cut.tiff")
                    }
                }
            } catch {
                expectOneLine(error, naming: "cut.tiff")
            }
        }
        // libtiff writes each level's tiles before its directory: cut inside level 0's tiles, the slide
        // has no directory left and cannot be opened.
        try bytes.prefix(bytes.count / 4).write(to: URL(fileURLWithPath: folder + "/quarter.tiff"))
        #expect(throws: ImageError.self) { try Slide(path: folder + "/quarter.tiff") }
    }

    @Test func badDirectoryOffsetsAndDamagedTilesFailWithOneLine() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.losslessSlide(in: folder))))
        func variant(_ name: String, _ change: (inout [UInt8]) -> Void) throws -> String {
            var bytes = original
            change(&bytes)
            let path = folder + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        func setFirstIFD(_ bytes: inout [UInt8], _ offset: UInt64) {  // BigTIFF: 8-byte offset at byte 8
            for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: offset >> (8 * UInt64(i))) }
        }
        for (name, offset) in [("beyond.tiff", UInt64(original.count + 1000)), ("inside-header.tiff", 3),
                               ("huge.tiff", UInt64.max - 7), ("zero.tiff", 0)] {
            let path = try variant(name) { setFirstIFD(&$0, offset) }
            #expect(!Slide.isSlide(path: path), "\(name)")
            let error = try #require(throws: ImageError.self, "\(name)") { try Slide(path: path) }
            expectOneLine(error, naming: name)
        }
        // Deflate data of the first tile (right after the 16-byte header) overwritten: opening works
        // (the directories are intact), reading that tile fails, other tiles still read.
        let damaged = try variant("tile.tiff") { bytes in for i in 20..<80 { bytes[i] = 0xA5 } }
        let slide = try Slide(path: damaged)
        let error = try #require(throws: ImageError.self) { try slide.region(x: 0, y: 0, width: 10, height: 10) }
        expectOneLine(error, naming: "tile.tiff")
        #expect(error.kind == .corrupt)
        try expectSame(slide.region(x: 200, y: 100, width: 50, height: 40),
                       GeneratedSlideTests.expectedMosaic().region(x: 200, y: 100, width: 50, height: 40))
    }

    @Test func damagedJPEGTileIsAnErrorNotGreyPixels() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/jpeg.tiff"
        let source = smooth(width: 128, height: 64, seed: 1)
        try PyramidTIFFWriter.write(to: path, width: 128, height: 64, tileSize: 64, compression: .jpeg(quality: 90)) { y, count throws(ImageError) in
            source.region(x: 0, y: y, width: 128, height: count)
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The first tile's entropy-coded data, cut short by an end-of-image marker.
        let start = 16 + 200
        bytes[start] = 0xFF; bytes[start + 1] = 0xD9
        let cut = folder + "/cut-jpeg.tiff"
        try Data(bytes).write(to: URL(fileURLWithPath: cut))
        let slide = try Slide(path: cut)
        let error = try #require(throws: ImageError.self) { try slide.region(x: 0, y: 0, width: 64, height: 64) }
        expectOneLine(error, naming: "cut-jpeg.tiff")
        #expect(difference(try slide.region(x: 64, y: 0, width: 64, height: 64), source.region(x: 64, y: 0, width: 64, height: 64)).mean < 3)
    }

    @Test func filesThatAreNotSlides() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = folder + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let cases: [(String, ImageError.Kind)] = [
            (try file("empty.tif", []), .empty),
            (try file("text.svs", Array("not a slide\n".utf8)), .unknownFormat),
            (fixture("fields/iml-malaria/images/PA171690.JPG"), .unsupported),
            (folder + "/missing.tiff", .unreadable),
            (folder, .unreadable),
        ]
        for (path, kind) in cases {
            #expect(!Slide.isSlide(path: path), "\(path)")
            let error = try #require(throws: ImageError.self) { try Slide(path: path) }
            #expect(error.kind == kind, "\(error)")
            expectOneLine(error, naming: (path as NSString).lastPathComponent)
        }
        // The JPEG field is 1280×960: a slide only for a field limit below its size (header only).
        let field = fixture("fields/iml-malaria/images/PA171690.JPG")
        #expect(Slide.isSlide(path: field, fieldLimit: 1280 * 960 - 1))
        #expect(!Slide.isSlide(path: field, fieldLimit: 1280 * 960))
        #expect(Slide.isSlide(path: fixture("fields/chula-rbc12/images/263.jpg"), fieldLimit: 1000))  // a PNG named .jpg
        // A FIFO with no writer: neither call blocks.
        let fifo = folder + "/fifo.tiff"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(!Slide.isSlide(path: fifo))
        let error = try #require(throws: ImageError.self) { try Slide(path: fifo) }
        #expect(error.kind == .unreadable)
        expectOneLine(error, naming: "fifo.tiff")
    }

    @Test(arguments: ["generated-jpeg", "slides/boxes.tiff", "slides/small.svs"])
    func readsFromTwoThreadsGiveTheSamePixels(_ source: String) async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path: String
        if source == "generated-jpeg" {
            path = folder + "/two.tiff"
            let image = smooth(width: 300, height: 200, seed: 3)
            try PyramidTIFFWriter.write(to: path, width: 300, height: 200, tileSize: 32, compression: .jpeg(quality: 80)) { y, count throws(ImageError) in
                image.region(x: 0, y: y, width: 300, height: count)
            }
        } else {
            path = fixture(source)
        }
        let slide = try Slide(path: path)
        // Regions over every level, read once on this thread.
        var requests: [(x: Int, y: Int, w: Int, h: Int, level: Int)] = []
        for (index, level) in slide.levels.enumerated() {
            for step in 0..<6 {
                let w = max(1, level.width / 3), h = max(1, level.height / 2)
                requests.append(((step * 7) % (level.width - w + 1), (step * 5) % (level.height - h + 1), w, h, index))
            }
        }
        let expected = try requests.map { try slide.region(x: $0.x, y: $0.y, width: $0.w, height: $0.h, level: $0.level) }
        let tasks = requests
        let results = try await withThrowingTaskGroup(of: [RGBImage].self) { group in
            for thread in 0..<2 {
                group.addTask {
                    var out: [RGBImage] = []
                    for _ in 0..<10 {
                        // The two threads go through the requests in opposite orders, switching levels.
                        for i in (thread == 0 ? Array(tasks.indices) : tasks.indices.reversed()) {
                            let r = tasks[i]
                            let image = try slide.region(x: r.x, y: r.y, width: r.w, height: r.h, level: r.level)
                            if image != expected[i] { out.append(image) }
                        }
                    }
                    return out
                }
            }
            var mismatches: [RGBImage] = []
            for try await batch in group { mismatches += batch }
            return mismatches
        }
        #expect(results.isEmpty, "\(results.count) regions differed when read from two threads")
    }
}
