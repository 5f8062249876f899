import CTIFF
import Foundation
import ImageCodecs
@testable import Slides
import Testing

/// TIFF layouts other than the generator's: OME-TIFF with SubIFDs, strips, 16-bit samples (libtiff's RGBA
/// interface), non-level pages, resolution tags.
@Suite struct TIFFLayoutTests {
    static let level0 = patterned(width: 120, height: 90, seed: 5)
    static let levels = [level0, level0.boxDownscaled(by: 2), level0.boxDownscaled(by: 4)]

    @Test func omeTIFFTakesLevelsFromSubIFDsAndPixelSizeFromOMEXML() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/slide.ome.tif"
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">\
            <Image ID="Image:0"><Pixels DimensionOrder="XYCZT" ID="Pixels:0" SizeC="3" SizeT="1" SizeZ="1" \
            SizeX="120" SizeY="90" Type="uint8" PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.26">\
            <Channel ID="Channel:0:0" SamplesPerPixel="3"/></Pixels></Image></OME>
            """
        // A second plane (not a level) follows in the main chain, as in a multi-image OME-TIFF.
        TestTIFF.write(Self.levels, to: path, tile: 32, compression: COMPRESSION_LZW, pyramid: .subIFDs,
                       extraPages: [patterned(width: 120, height: 90, seed: 9)], description: xml,
                       resolution: (Int32(RESUNIT_INCH), 72, 72))
        #expect(Slide.isSlide(path: path))
        let slide = try Slide(path: path)
        #expect(slide.format == .omeTIFF(bigTIFF: false))
        #expect(slide.levels.map { [$0.width, $0.height] } == [[120, 90], [60, 45], [30, 23]])
        // OME-XML wins over the 72 dpi of the TIFF tags; nm are converted; Y has no unit: µm.
        let mpp = try #require(slide.micronsPerPixel)
        #expect(abs(mpp.x - 0.25) < 1e-12 && abs(mpp.y - 0.26) < 1e-12)
        for (index, level) in Self.levels.enumerated() {
            try expectSame(slide.wholeLevel(index), level, "level \(index)")
        }
        try expectSame(slide.region(x: 25, y: 11, width: 30, height: 30, level: 1), Self.levels[1].region(x: 25, y: 11, width: 30, height: 30))
    }

    @Test func omeTIFFWithChannelsInSeparatePlanesIsRefused() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/planes.ome.tif"
        let tiff = try #require(TIFFOpen(path, "w"))
        let xml = #"<OME><Image><Pixels SizeC="3" SizeX="8" SizeY="8"/></Image></OME>"#
        func set(_ tag: Int32, _ value: Int32) { _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) } }
        set(TIFFTAG_IMAGEWIDTH, 8); set(TIFFTAG_IMAGELENGTH, 8); set(TIFFTAG_BITSPERSAMPLE, 8)
        set(TIFFTAG_SAMPLESPERPIXEL, 1); set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK); set(TIFFTAG_ROWSPERSTRIP, 8)
        _ = xml.withCString { text in withVaList([text]) { TIFFVSetField(tiff, UInt32(TIFFTAG_IMAGEDESCRIPTION), $0) } }
        var row = [UInt8](repeating: 100, count: 64)
        _ = TIFFWriteEncodedStrip(tiff, 0, &row, 64)
        TIFFClose(tiff)
        let error = try #require(throws: ImageError.self) { try Slide(path: path) }
        #expect(error.kind == .unsupported)
        expectOneLine(error, naming: "planes.ome.tif")
    }

    @Test func strippedTIFFIsReadStripByStripAndIsASlideOnlyAboveTheFieldLimit() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/big.tif"
        TestTIFF.write([Self.level0], to: path, rowsPerStrip: 7, compression: COMPRESSION_ADOBE_DEFLATE,
                       resolution: (Int32(RESUNIT_INCH), 50_800, 50_800))
        #expect(!Slide.isSlide(path: path))  // 10,800 px: a field
        #expect(Slide.isSlide(path: path, fieldLimit: 10_799))
        let slide = try Slide(path: path)
        #expect(slide.format == .tiff)
        #expect(slide.levels == [SlideLevel(width: 120, height: 90, downsample: 1, tileWidth: 120, tileHeight: 7)])
        let mpp = try #require(slide.micronsPerPixel)  // 50,800 px per inch = 0.5 µm
        #expect(abs(mpp.x - 0.5) < 1e-9 && abs(mpp.y - 0.5) < 1e-9)
        try expectSame(slide.wholeLevel(0), ImageCodecs.read(path: path))
        try expectSame(slide.region(x: 3, y: 6, width: 100, height: 9), Self.level0.region(x: 3, y: 6, width: 100, height: 9))
        try expectSame(slide.region(x: 0, y: 89, width: 120, height: 1), Self.level0.region(x: 0, y: 89, width: 120, height: 1))
    }

    @Test func sixteenBitSamplesAreScaledToEightBits() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for tiled in [true, false] {
            let path = folder + "/sixteen-\(tiled).tif"
            TestTIFF.write(Self.levels, to: path, tile: tiled ? 16 : nil, rowsPerStrip: 13, sixteenBit: true)
            let slide = try Slide(path: path)
            #expect(slide.levels.count == 3)
            for (index, level) in Self.levels.enumerated() {
                try expectSame(slide.wholeLevel(index), level, "tiled \(tiled), level \(index)")
                let w = level.width - 9, h = level.height - 14
                try expectSame(slide.region(x: 5, y: 13, width: w, height: h, level: index), level.region(x: 5, y: 13, width: w, height: h))
            }
        }
    }

    @Test(arguments: [(16, COMPRESSION_ADOBE_DEFLATE), (32, COMPRESSION_NONE), (16, COMPRESSION_NONE),
                      (nil, COMPRESSION_NONE), (nil, COMPRESSION_LZW)])
    func paletteImagesGoThroughLibtiffsRGBAInterface(tile: Int?, compression: Int32) throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/palette.tif"
        let (width, height) = (70, 45)
        let colours: [(UInt8, UInt8, UInt8)] = (0..<256).map { (i: Int) in
            (UInt8(i), UInt8(255 - i), UInt8((i * 7) % 256))
        }
        let index = { (x: Int, y: Int) in UInt8((x * 3 + y * 11) % 256) }
        let tiff = try #require(TIFFOpen(path, "w"))
        func set(_ tag: Int32, _ value: Int32) { _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) } }
        set(TIFFTAG_IMAGEWIDTH, Int32(width)); set(TIFFTAG_IMAGELENGTH, Int32(height))
        set(TIFFTAG_BITSPERSAMPLE, 8); set(TIFFTAG_SAMPLESPERPIXEL, 1)
        set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_PALETTE); set(TIFFTAG_COMPRESSION, compression)
        var red: [UInt16] = colours.map { UInt16($0.0) * 257 }
        var green: [UInt16] = colours.map { UInt16($0.1) * 257 }
        var blue: [UInt16] = colours.map { UInt16($0.2) * 257 }
        _ = red.withUnsafeMutableBufferPointer { r in green.withUnsafeMutableBufferPointer { g in blue.withUnsafeMutableBufferPointer { b in
            withVaList([r.baseAddress!, g.baseAddress!, b.baseAddress!]) { TIFFVSetField(tiff, UInt32(TIFFTAG_COLORMAP), $0) }
        } } }
        if let tile {
            set(TIFFTAG_TILEWIDTH, Int32(tile)); set(TIFFTAG_TILELENGTH, Int32(tile))
            for ty in stride(from: 0, to: height, by: tile) {
                for tx in stride(from: 0, to: width, by: tile) {
                    var buffer: [UInt8] = (0..<(tile * tile)).map { (i: Int) in index(tx + i % tile, ty + i / tile) }
                    _ = TIFFWriteEncodedTile(tiff, TIFFComputeTile(tiff, UInt32(tx), UInt32(ty), 0, 0), &buffer, tmsize_t(buffer.count))
                }
            }
        } else {
            set(TIFFTAG_ROWSPERSTRIP, 10)
            for (strip, y0) in stride(from: 0, to: height, by: 10).enumerated() {
                var buffer: [UInt8] = (y0..<min(y0 + 10, height)).flatMap { (y: Int) in (0..<width).map { (x: Int) in index(x, y) } }
                _ = TIFFWriteEncodedStrip(tiff, UInt32(strip), &buffer, tmsize_t(buffer.count))
            }
        }
        TIFFClose(tiff)
        var expected = RGBImage(width: width, height: height)
        for y in 0..<height { for x in 0..<width { let c = colours[Int(index(x, y))]; expected[x, y] = (c.0, c.1, c.2) } }

        let slide = try Slide(path: path)
        if tile == 16 && compression == COMPRESSION_NONE {
            // 256-byte uncompressed tiles: libtiff 4.5.0's RGBA interface refuses tiles whose size is not a
            // multiple of 1,024 bytes (32×32 above passes). A fixed libtiff reads them; either way, never
            // wrong pixels.
            do {
                try expectSame(slide.wholeLevel(0), expected)
            } catch {
                expectOneLine(error, naming: "palette.tif")
            }
            return
        }
        try expectSame(slide.wholeLevel(0), expected)
        try expectSame(slide.region(x: 13, y: 7, width: 40, height: 30), expected.region(x: 13, y: 7, width: 40, height: 30))
        try expectSame(slide.region(x: 69, y: 44, width: 1, height: 1), expected.region(x: 69, y: 44, width: 1, height: 1))
    }

    @Test func pagesThatAreNotLevelsAreLeftOut() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/pages.tif"
        // A reduced image of another shape (a label) and an ordinary page are not levels.
        TestTIFF.write([Self.level0, Self.levels[1], patterned(width: 20, height: 40, seed: 1)], to: path, tile: 16,
                       extraPages: [patterned(width: 50, height: 30, seed: 2)])
        let slide = try Slide(path: path)
        #expect(slide.levels.map { [$0.width, $0.height] } == [[120, 90], [60, 45]])
        // A multi-page TIFF in strips without reduced pages is one field, not a slide.
        let pages = folder + "/fields.tif"
        TestTIFF.write([Self.level0], to: pages, extraPages: [Self.level0])
        #expect(!Slide.isSlide(path: pages))
    }

    @Test func implausibleOrMissingResolutionsAreUnknown() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases: [((unit: Int32, x: Double, y: Double)?, Double?)] = [
            (nil, nil),
            ((Int32(RESUNIT_NONE), 4, 4), nil),                // no absolute unit
            ((Int32(RESUNIT_INCH), 300, 300), nil),            // 84.7 µm/px: a document scan
            ((Int32(RESUNIT_CENTIMETER), 40_000, 40_000), 0.25),
        ]
        for (index, (resolution, expected)) in cases.enumerated() {
            let path = folder + "/r\(index).tif"
            TestTIFF.write([Self.level0], to: path, tile: 16, resolution: resolution)
            let mpp = try Slide(path: path).micronsPerPixel
            #expect(mpp.map { abs($0.x - expected!) < 1e-6 } ?? (expected == nil), "case \(index): \(String(describing: mpp))")
        }
    }
}

/// OME-XML and resolution parsing on its own.
@Suite struct PixelSizeTests {
    @Test func omeXMLVariants() throws {
        let prefixed = #"<ome:OME xmlns:ome="x"><ome:Image><ome:Pixels SizeC='3' PhysicalSizeX='0.5' PhysicalSizeY = "500" PhysicalSizeYUnit="nm"/></ome:Image></ome:OME>"#
        #expect(OMEXML.isOME(prefixed))
        let mpp = try #require(PixelSize.fromOMEXML(prefixed))
        #expect(mpp.x == 0.5 && mpp.y == 0.5)
        #expect(PixelSize.fromOMEXML(#"<OME><Pixels PhysicalSizeX="1" PhysicalSizeXUnit="pc"/></OME>"#) == nil)  // parsecs
        #expect(PixelSize.fromOMEXML(#"<OME><Pixels SizeX="5"/></OME>"#) == nil)
        #expect(PixelSize.fromOMEXML(#"<OME><Pixels PhysicalSizeX="2.5e-4" PhysicalSizeXUnit="mm"/></OME>"#).map { abs($0.x - 0.25) < 1e-12 && $0.y == $0.x } == true)
        #expect(!OMEXML.isOME("Aperio Image Library v12.2.2 46000x32914 …|MPP = 0.4990"))
        #expect(!OMEXML.isOME("<OMEGA>"))
        #expect(OMEXML.isOME("<?xml version=\"1.0\"?>\n<OME\n xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">"))
    }

    @Test func tiffResolutionUnits() {
        #expect(PixelSize.fromTIFF(unit: 3, x: 40_000, y: nil).map { $0.x == 0.25 && $0.y == 0.25 } == true)
        #expect(PixelSize.fromTIFF(unit: 2, x: 101_600, y: 50_800).map { $0.x == 0.25 && $0.y == 0.5 } == true)
        #expect(PixelSize.fromTIFF(unit: 1, x: 4, y: 4) == nil)
        #expect(PixelSize.fromTIFF(unit: 2, x: 72, y: 72) == nil)
        #expect(PixelSize.fromTIFF(unit: 3, x: 0, y: 0) == nil)
        #expect(PixelSize.fromTIFF(unit: 3, x: .infinity, y: 1) == nil)
    }
}
