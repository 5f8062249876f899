import Testing
import ImageCodecs

/// `JPEGEncoder` writes baseline 4:2:0 JPEGs the decoder reads back close to their source, and its round
/// trip is exactly what decoding its bytes gives.
@Suite struct JPEGEncoderTests {
    @Test(arguments: [(64, 48), (37, 21), (1, 1)])
    func encodesBaselineJPEGTheDecoderReads(size: (Int, Int)) throws {
        let source = TestSupport.smooth(width: size.0, height: size.1)
        let bytes = try source.pixels.withUnsafeBufferPointer {
            try JPEGEncoder.encode($0.baseAddress!, width: size.0, height: size.1, quality: 95)
        }
        #expect(bytes.starts(with: [0xFF, 0xD8]) && bytes.suffix(2) == [0xFF, 0xD9])
        // SOF0: a baseline frame.
        #expect((0..<(bytes.count - 1)).contains { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        let image = try ImageCodecs.decode(bytes, name: "encoded.jpg")
        #expect(image.width == size.0 && image.height == size.1)
        #expect(Orientation.meanDifference(image, source) < 2.5)

        var roundTrip = source
        let done = roundTrip.pixels.withUnsafeMutableBufferPointer {
            JPEGEncoder.roundTrip($0.baseAddress!, width: size.0, height: size.1, quality: 95, into: $0.baseAddress!)
        }
        #expect(done && roundTrip.pixels == image.pixels)
    }

    /// Lower quality loses more: the mean difference from the source grows as the quality falls, and the
    /// file shrinks.
    @Test func lowerQualityLosesMore() throws {
        var source = TestSupport.smooth(width: 96, height: 96)
        for i in stride(from: 0, to: source.pixels.count, by: 7) { source.pixels[i] = source.pixels[i] &+ 90 }  // detail to lose
        var previous = (error: -1.0, size: Int.max)
        for quality in [95, 75, 40, 10] {
            let bytes = try source.pixels.withUnsafeBufferPointer {
                try JPEGEncoder.encode($0.baseAddress!, width: 96, height: 96, quality: quality)
            }
            let error = Orientation.meanDifference(try ImageCodecs.decode(bytes, name: "q.jpg"), source)
            #expect(error > previous.error && bytes.count < previous.size, "quality \(quality)")
            previous = (error, bytes.count)
        }
    }
}
