import CTIFF
import Testing
import ImageCodecs

/// `read(path:downscale:)`: DCT scaling for JPEG, box averaging for everything else, ⌈size/factor⌉.
@Suite struct DownscaleTests {
    @Test(arguments: [1, 2, 3, 4])
    func pngIsBoxAveraged(factor: Int) throws {
        let image = TestSupport.pattern(width: 37, height: 21)
        let scaled = try TestSupport.withTemporaryFile("box.png", try ImageCodecs.encodePNG(image)) {
            try ImageCodecs.read(path: $0, downscale: factor)
        }
        #expect(scaled == TestSupport.boxAverage(image, factor: factor))
    }

    @Test func tiffIsBoxAveraged() throws {
        let image = TestSupport.pattern(width: 37, height: 21)
        let tiff = TIFFTestEncoder.encode(width: 37, height: 21, samplesPerPixel: 3,
                                          samples: image.pixels.map(UInt16.init), TIFFTestEncoder.Options())
        let scaled = try TestSupport.withTemporaryFile("box.tif", tiff) { try ImageCodecs.read(path: $0, downscale: 2) }
        #expect(scaled == TestSupport.boxAverage(image, factor: 2))
    }

    /// 2, 4 and 8 come from libjpeg-turbo's DCT scaling; 3 and 16 add a box average.
    @Test(arguments: [1, 2, 3, 4, 8, 16])
    func jpegScalesToCeilingSize(factor: Int) throws {
        let source = TestSupport.smooth(width: 100, height: 60)
        let image = try TestSupport.withTemporaryFile("scaled.jpg", JPEGTestEncoder.encode(source)) {
            try ImageCodecs.read(path: $0, downscale: factor)
        }
        #expect(image.width == (100 + factor - 1) / factor && image.height == (60 + factor - 1) / factor)
        #expect(Orientation.meanDifference(image, TestSupport.boxAverage(source, factor: factor)) < 3)
    }
}
