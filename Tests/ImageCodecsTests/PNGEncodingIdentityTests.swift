import Testing
@testable import ImageCodecs

/// The encoder's exact output for a fixture field, saved as its length and FNV-1a digest: a change that
/// alters the bytes (a filter choice, a deflate setting, the chunk layout) fails here even if the file
/// still decodes to the same pixels. The saved values are those of the encoder before its unreachable
/// Up-filter branch in the zlib path was removed. They include the compressed streams of Debian's
/// libdeflate 1.14 (`fast`) and zlib 1.2.13 (otherwise): after an upgrade of either, check the round
/// trips in `PNGEncoderTests` and save the new values.
@Suite struct PNGEncodingIdentityTests {
    /// 64-bit FNV-1a of `bytes`.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    @Test(arguments: [(true, 411_474, 0x8219_c472_3eef_cd44 as UInt64), (false, 378_700, 0x2ff3_879f_f49b_6f2c)])
    func fixtureFieldEncodesToSavedBytes(fast: Bool, length: Int, digest: UInt64) throws {
        let path = TestSupport.fixtures.appendingPathComponent("fields/chula-rbc12/images/44.jpg").path
        let field = try ImageCodecs.read(path: path)
        // The input first: a different JPEG decoder (libjpeg-turbo 2.1.5 gave these pixels) is not the encoder's fault.
        try #require(field.width == 640 && field.height == 480 && Self.fnv1a(field.pixels) == 0x2672_0338_3e10_ee57,
                     "the decoded fixture changed, not the encoder")
        let png = try ImageCodecs.encodePNG(field, fast: fast)
        #expect(png.count == length)
        #expect(Self.fnv1a(png) == digest, "0x\(String(Self.fnv1a(png), radix: 16))")
    }
}
