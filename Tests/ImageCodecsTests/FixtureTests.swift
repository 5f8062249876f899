import Testing
import ImageCodecs

/// The damaged files in `fixtures/corrupt/` (sources in `fixtures/README.md`) each fail with their kind.
@Suite struct FixtureTests {
    @Test(arguments: [
        ("truncated.jpg", ImageError.Kind.truncated),
        ("truncated-in-exif.jpg", .truncated),
        ("header-only.png", .truncated),
        ("bad-crc.png", .corrupt),
        ("not-an-image.png", .unknownFormat),
        ("empty.tif", .empty),
    ])
    func failsWithKind(file: String, kind: ImageError.Kind) {
        let path = TestSupport.fixtures.appendingPathComponent("corrupt/\(file)").path
        let error = TestSupport.error { () throws(ImageError) in try ImageCodecs.read(path: path) }
        #expect(error?.kind == kind)
        #expect(error?.file == file)
        #expect(error?.description.hasPrefix("\(file): ") == true)
        #expect(error?.description.contains("\n") == false)
    }
}
