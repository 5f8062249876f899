import CTIFF
import Foundation
import Testing
import ImageCodecs

/// Every failure is a typed `ImageError` of the right kind whose description is one line naming the file.
@Suite struct ErrorTests {
    static let png = try! ImageCodecs.encodePNG(TestSupport.pattern(width: 64, height: 48))
    static let jpeg = JPEGTestEncoder.encode(TestSupport.smooth(width: 64, height: 48))
    static let tiff: [UInt8] = {
        var options = TIFFTestEncoder.Options()
        options.compression = COMPRESSION_LZW
        let image = TestSupport.pattern(width: 64, height: 48)
        return TIFFTestEncoder.encode(width: 64, height: 48, samplesPerPixel: 3,
                                      samples: image.pixels.map(UInt16.init), options)
    }()

    /// Checks kind, file name and the one-line, name-first description.
    func expect(_ error: ImageError?, _ kind: ImageError.Kind, file: String,
                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.kind == kind, sourceLocation: sourceLocation)
        #expect(error?.file == file, sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("\(file): ") == true, sourceLocation: sourceLocation)
        #expect(error?.description.contains("\n") == false, sourceLocation: sourceLocation)
    }

    @Test func emptyFile() throws {
        let error = try TestSupport.readError("empty.png", [])
        expect(error, .empty, file: "empty.png")
        #expect(error?.description == "empty.png: empty file (0 bytes)")
    }

    @Test func textIsNotAnImage() throws {
        let error = try TestSupport.readError("notes.jpg", Array("patient 12, field 3\n".utf8))
        expect(error, .unknownFormat, file: "notes.jpg")
        #expect(error?.description == "notes.jpg: not a PNG, JPEG or TIFF image")
    }

    @Test func missingFile() {
        let error = TestSupport.error { () throws(ImageError) in try ImageCodecs.read(path: "/no/such/dir/field7.jpg") }
        expect(error, .unreadable, file: "field7.jpg")
        #expect(error?.description == "field7.jpg: cannot open: No such file or directory")
    }

    @Test func directoryIsUnreadable() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = TestSupport.error { () throws(ImageError) in try ImageCodecs.read(path: directory.path) }
        expect(error, .unreadable, file: directory.lastPathComponent)
    }

    @Test(arguments: [8, 20, 33, 100, 0])  // 0: half the file
    func truncatedPNG(length: Int) throws {
        let cut = Array(Self.png.prefix(length == 0 ? Self.png.count / 2 : length))
        expect(try TestSupport.readError("cut.png", cut), .truncated, file: "cut.png")
    }

    @Test(arguments: [3, 100, 0])  // 3: SOI only; 100: inside the tables; 0: half the file
    func truncatedJPEG(length: Int) throws {
        let cut = Array(Self.jpeg.prefix(length == 0 ? Self.jpeg.count / 2 : length))
        let error = try TestSupport.readError("field7.jpg", cut)
        expect(error, .truncated, file: "field7.jpg")
        if length == 0 {
            #expect(error?.description == "field7.jpg: truncated JPEG data (premature end of file after \(cut.count) bytes)")
        }
    }

    @Test(arguments: [4, 8, 0])  // 4: inside the header; 8: no directory; 0: half (libtiff puts IFD0 last)
    func truncatedTIFF(length: Int) throws {
        let cut = Array(Self.tiff.prefix(length == 0 ? Self.tiff.count / 2 : length))
        expect(try TestSupport.readError("cut.tif", cut), .truncated, file: "cut.tif")
    }

    /// IFD0 intact, pixel data cut short.
    @Test func truncatedTIFFStrip() throws {
        let tiff = HandmadeFiles.greyTIFF(width: 40, height: 30, data: [UInt8](repeating: 9, count: 700))
        expect(try TestSupport.readError("strip.tif", tiff), .truncated, file: "strip.tif")
    }

    @Test func corruptPNGData() throws {
        var png = Self.png
        for i in (png.count / 2)..<(png.count / 2 + 4) { png[i] ^= 0xFF }  // inside IDAT
        expect(try TestSupport.readError("flipped.png", png), .corrupt, file: "flipped.png")
    }

    @Test func corruptPNGHeaderChecksum() throws {
        var png = Self.png
        png[24] = 12  // bit depth in IHDR, CRC left as it was
        let error = try TestSupport.readError("header.png", png)
        expect(error, .corrupt, file: "header.png")
        #expect(error?.description.contains("CRC") == true)
    }

    @Test func corruptJPEGScan() throws {
        var jpeg = Self.jpeg
        for i in stride(from: jpeg.count / 2, to: jpeg.count - 20, by: 5) { jpeg[i] = UInt8(i & 0xFF) }
        expect(try TestSupport.readError("garbled.jpg", jpeg), .corrupt, file: "garbled.jpg")
    }

    @Test func corruptTIFFCompressedData() throws {
        var tiff = Self.tiff
        for i in 200..<260 { tiff[i] = UInt8(i & 0xFF) }  // inside the first LZW strip
        expect(try TestSupport.readError("garbled.tif", tiff), .corrupt, file: "garbled.tif")
    }

    @Test func zeroSized() throws {
        expect(try TestSupport.readError("zero.png", HandmadeFiles.png(Self.png, width: 0, height: 48)), .zeroSized, file: "zero.png")
        expect(try TestSupport.readError("zero.jpg", HandmadeFiles.jpeg(Self.jpeg, width: 64, height: 0)), .zeroSized, file: "zero.jpg")
        expect(try TestSupport.readError("zero.tif", HandmadeFiles.greyTIFF(width: 0, height: 30, data: [])), .zeroSized, file: "zero.tif")
        expect(try TestSupport.readError("flat.tif", HandmadeFiles.greyTIFF(width: 30, height: 0, data: [])), .zeroSized, file: "flat.tif")
    }

    /// Headers claiming huge images are refused from the header alone: fast, and nothing allocated.
    @Test func tooLargeFromHeader() throws {
        let cases: [(String, [UInt8], String)] = [
            ("huge.png", HandmadeFiles.png(Self.png, width: 100_000, height: 100_000), "100000×100000"),
            ("huge.tif", HandmadeFiles.greyTIFF(width: 100_000, height: 100_000, data: [1, 2, 3]), "100000×100000"),
            ("huge.jpg", HandmadeFiles.jpeg(Self.jpeg, width: 60_000, height: 60_000), "60000×60000"),
        ]
        for (name, bytes, size) in cases {
            let start = ContinuousClock.now
            let error = try TestSupport.readError(name, bytes)
            #expect(ContinuousClock.now - start < .seconds(1))
            expect(error, .tooLarge, file: name)
            #expect(error?.description == "\(name): dimensions \(size) exceed the 100-megapixel limit")
        }
    }

    /// libpng's own cap is 1,000,000 pixels per side.
    @Test func pngBeyondLibpngLimit() throws {
        let error = try TestSupport.readError("strip.png", HandmadeFiles.png(Self.png, width: 2_000_000, height: 1))
        expect(error, .tooLarge, file: "strip.png")
        #expect(error?.description == "strip.png: dimensions 2000000×1 exceed libpng's limit of 1000000 pixels per side")
    }

    @Test func jpegBeyondLibjpegLimit() throws {
        let error = try TestSupport.readError("wide.jpg", HandmadeFiles.jpeg(Self.jpeg, width: 65_535, height: 8))
        expect(error, .tooLarge, file: "wide.jpg")
    }

    @Test func callerLimit() throws {
        for (name, bytes) in [("small.png", Self.png), ("small.jpg", Self.jpeg), ("small.tif", Self.tiff)] {
            let error = try TestSupport.readError(name, bytes, maxPixels: 1000)
            expect(error, .tooLarge, file: name)
            #expect(error?.description == "\(name): dimensions 64×48 exceed the 1000-pixel limit")
        }
    }

    /// A lossless-JPEG frame (SOF3), which libjpeg-turbo 2.1 does not decode.
    @Test func unsupportedJPEGProcess() throws {
        var jpeg = Self.jpeg
        let sof = (2..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }!
        jpeg[sof + 1] = 0xC3
        let error = try TestSupport.readError("lossless.jpg", jpeg)
        expect(error, .unsupported, file: "lossless.jpg")
    }

    /// Stray bytes before a marker (common in camera files) only draw a libjpeg warning: the image is fine.
    @Test func strayBytesBeforeMarkerAreTolerated() throws {
        let afterFirstSegment = 4 + (Int(Self.jpeg[4]) << 8 | Int(Self.jpeg[5]))  // SOI, then APP0 with its length
        let jpeg = Array(Self.jpeg[..<afterFirstSegment]) + [0x12, 0x34] + Array(Self.jpeg[afterFirstSegment...])
        let image = try ImageCodecs.decode(jpeg, name: "stray.jpg")
        #expect(Orientation.meanDifference(image, TestSupport.smooth(width: 64, height: 48)) < 2.5)
    }

    /// A photometric interpretation libtiff cannot turn into RGB.
    @Test func unsupportedTIFF() throws {
        var tiff = HandmadeFiles.greyTIFF(width: 4, height: 4, data: [UInt8](repeating: 0, count: 16))
        // PhotometricInterpretation is the 5th entry (IFD0 at 8: count, then 12-byte entries); value 99.
        tiff[8 + 2 + 4 * 12 + 8] = 99
        let error = try TestSupport.readError("odd.tif", tiff)
        expect(error, .unsupported, file: "odd.tif")
    }

    /// Decoding is called from several threads at once (libtiff's error handling is per handle).
    @Test func concurrentDecodesAreIndependent() async throws {
        let expected = try ImageCodecs.decode(Self.tiff, name: "ok.tif")
        let cut = Array(Self.tiff.prefix(Self.tiff.count / 2))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    if i % 2 == 0 {
                        let image = try ImageCodecs.decode(Self.tiff, name: "ok.tif")
                        #expect(image == expected)
                    } else {
                        let error = TestSupport.error { () throws(ImageError) in try ImageCodecs.decode(cut, name: "cut\(i).tif") }
                        #expect(error?.kind == .truncated && error?.file == "cut\(i).tif")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
