import Testing
@testable import ImageCodecs

/// The PNG writer (libdeflate for `fast`, zlib for the small path): exact round trips through libpng and through an independent reader.
@Suite struct PNGEncoderTests {
    /// An image of uniformly random bytes (incompressible), reproducible from `seed`.
    static func noise(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407  // 64-bit LCG; the high byte is random enough
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static let sizes = [(1, 1), (1, 9), (9, 1), (2, 2), (3, 5), (17, 9), (101, 3), (1, 300), (333, 1), (255, 77)]

    @Test(arguments: [true, false])
    func randomImagesRoundTrip(fast: Bool) throws {
        for (index, (width, height)) in Self.sizes.enumerated() {
            let image = Self.noise(width: width, height: height, seed: UInt64(index))
            let png = try ImageCodecs.encodePNG(image, fast: fast)
            #expect(try ImageCodecs.decode(png, name: "noise.png") == image, "\(width)×\(height)")
            #expect(try PNGFileCheck(png).image == image, "\(width)×\(height)")
        }
    }

    @Test(arguments: [true, false])
    func smoothAndFlatImagesRoundTrip(fast: Bool) throws {
        for image in [TestSupport.smooth(width: 97, height: 61), TestSupport.blocks(),
                      TestSupport.pattern(width: 130, height: 47), RGBImage(width: 40, height: 30, fill: (12, 200, 99))] {
            let png = try ImageCodecs.encodePNG(image, fast: fast)
            #expect(try ImageCodecs.decode(png, name: "smooth.png") == image)
            #expect(try PNGFileCheck(png).image == image)
        }
    }

    /// Incompressible data larger than one IDAT chunk: the output is split into several chunks, each
    /// with its CRC, and stays within the buffer sized from zlib's bound.
    @Test(arguments: [true, false])
    func largeImageSpansSeveralIDATChunks(fast: Bool) throws {
        let image = Self.noise(width: 1001, height: 701, seed: 99)
        let png = try ImageCodecs.encodePNG(image, fast: fast)
        let check = try PNGFileCheck(png)
        #expect(check.image == image)
        #expect(check.idatLengths.count == 3)
        #expect(check.idatLengths.dropLast().allSatisfy { $0 == PNGEncoder.idatLength })
        #expect(try ImageCodecs.decode(png, name: "large.png") == image)
    }

    @Test func fastModeFiltersUpAfterTheFirstRow() throws {
        let check = try PNGFileCheck(ImageCodecs.encodePNG(TestSupport.smooth(width: 20, height: 6), fast: true))
        #expect(check.filterTypes == [0, 2, 2, 2, 2, 2])
    }

    @Test func adaptiveModeChoosesFiltersPerRow() throws {
        // A horizontal ramp favours Sub, identical rows favour Up; the first row has no row above.
        var image = RGBImage(width: 64, height: 4)
        for y in 0..<4 { for x in 0..<64 { image[x, y] = (UInt8(4 * x), UInt8(4 * x), UInt8(4 * x)) } }
        let check = try PNGFileCheck(ImageCodecs.encodePNG(image, fast: false))
        #expect(check.filterTypes == [1, 2, 2, 2])
    }

    @Test func slowModeIsSmallerOnSmoothContent() throws {
        let image = TestSupport.smooth(width: 300, height: 200)
        #expect(try ImageCodecs.encodePNG(image, fast: false).count <= ImageCodecs.encodePNG(image, fast: true).count)
    }

    @Test func paethPredictorFollowsTheSpecification() {
        // p = a + b − c; nearest of a, b, c to p, ties a before b before c.
        #expect(PNGRowFilter.paethPredictor(10, 20, 10) == 20)   // p = 20
        #expect(PNGRowFilter.paethPredictor(20, 10, 10) == 20)   // p = 20
        #expect(PNGRowFilter.paethPredictor(10, 10, 10) == 10)
        #expect(PNGRowFilter.paethPredictor(50, 60, 200) == 50)  // p = −90: a is nearest
        #expect(PNGRowFilter.paethPredictor(100, 200, 150) == 150)  // p = 150: c
        #expect(PNGRowFilter.paethPredictor(0, 255, 255) == 0)
    }

    @Test func realFieldRoundTrips() throws {
        let path = TestSupport.smears.appendingPathComponent("iml-malaria/images/PA171690.JPG").path
        let field = try ImageCodecs.read(path: path)
        let png = try ImageCodecs.encodePNG(field)
        #expect(try ImageCodecs.decode(png, name: "field.png") == field)
        // Up filter + run-length deflate keeps a photographed field well under half its raw size.
        #expect(png.count < field.pixels.count / 2)
    }
}
