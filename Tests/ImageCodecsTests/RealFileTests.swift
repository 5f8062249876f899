import Foundation
import Testing
@testable import ImageCodecs

/// One real field from each shared data set decodes to its known size.
@Suite struct RealFileTests {
    @Test(arguments: [
        ("iml-malaria/images/PA171690.JPG", 1280, 960),
        ("chula-rbc12/images/10.jpg", 640, 480),
        ("chula-rbc12/images/707.jpg", 640, 480),  // a PNG named .jpg
        ("bccd/images/BloodImage_00000.jpg", 640, 480),
    ])
    func decodesSharedField(path: String, width: Int, height: Int) throws {
        let url = TestSupport.smears.appendingPathComponent(path)
        let image = try ImageCodecs.read(path: url.path)
        #expect(image.width == width && image.height == height)
        #expect(image.pixels.count == width * height * 3)
        // A stained smear is neither blank nor saturated: the mean lies well inside (0, 255).
        let mean = image.pixels.reduce(0) { $0 + Int($1) } / image.pixels.count
        #expect(mean > 40 && mean < 250)
    }

    @Test func pngNamedJPGIsDetectedFromItsBytes() throws {
        let bytes = try [UInt8](Data(contentsOf: TestSupport.smears.appendingPathComponent("chula-rbc12/images/707.jpg")))
        #expect(ImageCodecs.detectFormat(bytes) == .png)
    }

    @Test func downscaledJPEGHasCeilingSize() throws {
        let path = TestSupport.smears.appendingPathComponent("iml-malaria/images/PA171690.JPG").path
        let half = try ImageCodecs.read(path: path, downscale: 2)
        #expect(half.width == 640 && half.height == 480)
        let third = try ImageCodecs.read(path: path, downscale: 3)
        #expect(third.width == 427 && third.height == 320)
    }
}
