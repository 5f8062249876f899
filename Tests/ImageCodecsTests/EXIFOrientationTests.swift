import Testing
import ImageCodecs

/// JPEGs tagged with each EXIF orientation come out upright, as a viewer would show them.
@Suite struct EXIFOrientationTests {
    @Test(arguments: 1...8, [true, false])
    func appliesOrientation(_ orientation: Int, bigEndian: Bool) throws {
        let stored = TestSupport.blocks()
        let jpeg = JPEGTestEncoder.withOrientation(JPEGTestEncoder.encode(stored), UInt16(orientation), bigEndian: bigEndian)
        let image = try ImageCodecs.decode(jpeg, name: "oriented.jpg")
        let expected = Orientation.displayed(stored, orientation: orientation)
        #expect(image.width == expected.width && image.height == expected.height)
        #expect(Orientation.meanDifference(image, expected) < 3)
    }

    @Test(arguments: 5...8)
    func appliesOrientationAfterDCTDownscale(_ orientation: Int) throws {
        let stored = TestSupport.blocks()
        let jpeg = JPEGTestEncoder.withOrientation(JPEGTestEncoder.encode(stored), UInt16(orientation))
        let image = try TestSupport.withTemporaryFile("oriented.jpg", jpeg) { try ImageCodecs.read(path: $0, downscale: 2) }
        let expected = TestSupport.boxAverage(Orientation.displayed(stored, orientation: orientation), factor: 2)
        #expect(image.width == 16 && image.height == 32)
        #expect(Orientation.meanDifference(image, expected) < 4)
    }

    /// Out-of-range values and a damaged EXIF block are ignored: the image is decoded as stored.
    @Test(arguments: [0, 9, 0xFFFF])
    func ignoresInvalidOrientation(_ value: Int) throws {
        let stored = TestSupport.blocks()
        let jpeg = JPEGTestEncoder.withOrientation(JPEGTestEncoder.encode(stored), UInt16(value))
        #expect(Orientation.meanDifference(try ImageCodecs.decode(jpeg, name: "odd.jpg"), stored) < 3)
    }

    @Test func ignoresDamagedEXIFBlock() throws {
        let stored = TestSupport.blocks()
        var jpeg = JPEGTestEncoder.withOrientation(JPEGTestEncoder.encode(stored), 6)
        // Point IFD0 (offset field at APP1 payload + 6 + 4) far outside the segment.
        let ifdOffset = 2 + 4 + 6 + 4
        for i in 0..<4 { jpeg[ifdOffset + i] = 0x7F }
        #expect(Orientation.meanDifference(try ImageCodecs.decode(jpeg, name: "damaged.jpg"), stored) < 3)
    }
}
