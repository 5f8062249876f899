import Foundation
import Testing
@testable import ImageCodecs

@Suite struct PNGRoundTripTests {
    @Test(arguments: [true, false])
    func encodeThenDecodeIsLossless(fast: Bool) throws {
        let image = TestSupport.pattern(width: 37, height: 23)
        let png = try ImageCodecs.encodePNG(image, fast: fast)
        #expect(ImageCodecs.detectFormat(png) == .png)
        #expect(try ImageCodecs.decode(png, name: "roundtrip.png") == image)
    }

    @Test func writeThenReadIsLossless() throws {
        let image = TestSupport.pattern(width: 64, height: 48)
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.png").path
        try ImageCodecs.writePNG(image, to: path)
        #expect(try ImageCodecs.read(path: path) == image)
    }

    @Test func zeroSizedImageCannotBeEncoded() {
        #expect(throws: ImageError.self) { try ImageCodecs.encodePNG(RGBImage(width: 0, height: 5)) }
    }

    @Test func writeToMissingDirectoryFails() throws {
        let image = TestSupport.pattern(width: 4, height: 4)
        do {
            try ImageCodecs.writePNG(image, to: "/nonexistent-dir-for-tests/out.png")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .writeFailed)
            #expect(error.description == "out.png: cannot create: No such file or directory")
        }
    }
}
