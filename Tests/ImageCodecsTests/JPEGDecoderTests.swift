import CTurboJPEG
import Testing
import ImageCodecs

/// JPEG variants written with TurboJPEG decode close to their source.
@Suite struct JPEGDecoderTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        let subsampling: Int32, progressive: Bool
        var testDescription: String {
            let names = [TJSAMP_444: "4:4:4", TJSAMP_422: "4:2:2", TJSAMP_420: "4:2:0"].map { ($0.key.rawValue, $0.value) }
            let name = Dictionary(uniqueKeysWithValues: names)[UInt32(subsampling)]!
            return "\(progressive ? "progressive" : "baseline") \(name)"
        }
    }

    static let variants = [TJSAMP_444, TJSAMP_422, TJSAMP_420].flatMap { sampling in
        [false, true].map { Variant(subsampling: Int32(sampling.rawValue), progressive: $0) }
    }

    @Test(arguments: variants, [(64, 48), (37, 21)])
    func decodesColourVariant(_ variant: Variant, size: (Int, Int)) throws {
        let source = TestSupport.smooth(width: size.0, height: size.1)
        let jpeg = JPEGTestEncoder.encode(source, subsampling: TJSAMP(UInt32(variant.subsampling)),
                                          progressive: variant.progressive)
        // SOF2 marks a progressive frame, SOF0 a baseline one.
        let frame: UInt8 = variant.progressive ? 0xC2 : 0xC0
        #expect((0..<(jpeg.count - 1)).contains { jpeg[$0] == 0xFF && jpeg[$0 + 1] == frame })
        let image = try ImageCodecs.decode(jpeg, name: "variant.jpg")
        #expect(image.width == size.0 && image.height == size.1)
        #expect(Orientation.meanDifference(image, source) < 2.5)
    }

    @Test func decodesGreyscaleAsReplicatedLuminance() throws {
        let source = TestSupport.smooth(width: 48, height: 32)
        let image = try ImageCodecs.decode(JPEGTestEncoder.encode(source, grey: true), name: "grey.jpg")
        var luminance = RGBImage(width: 48, height: 32)
        for y in 0..<32 {
            for x in 0..<48 {
                let p = source[x, y]
                let weighted: Double = 0.299 * Double(p.r) + 0.587 * Double(p.g) + 0.114 * Double(p.b)
                let l = UInt8(weighted.rounded())
                luminance[x, y] = (l, l, l)
                let q = image[x, y]
                #expect(q.r == q.g && q.g == q.b)
            }
        }
        #expect(Orientation.meanDifference(image, luminance) < 2)
    }

    @Test func rejectsCMYK() throws {
        let handle = tjInitCompress()!
        defer { tjDestroy(handle) }
        let cmyk = [UInt8](repeating: 100, count: 16 * 16 * 4)
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        #expect(tjCompress2(handle, cmyk, 16, 0, 16, Int32(TJPF_CMYK.rawValue), &output, &size,
                            Int32(TJSAMP_444.rawValue), 90, 0) == 0)
        let jpeg = Array(UnsafeBufferPointer(start: output, count: Int(size)))
        tjFree(output)
        let error = TestSupport.error { () throws(ImageError) in try ImageCodecs.decode(jpeg, name: "cmyk.jpg") }
        #expect(error?.kind == .unsupported)
        #expect(error?.description == "cmyk.jpg: CMYK JPEG images are not supported")
    }
}
