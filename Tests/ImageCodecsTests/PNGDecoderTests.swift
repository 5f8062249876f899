import CPNG
import Testing
import ImageCodecs

/// Every PNG colour type at 8 and 16 bits, generated with libpng, decodes to the expected RGB.
@Suite struct PNGDecoderTests {
    static let width = 13, height = 7

    /// A sample value for pixel (x, y), channel c, spread over the whole `bits`-bit range.
    static func sample(_ x: Int, _ y: Int, _ c: Int, bits: Int) -> UInt16 {
        bits == 8 ? UInt16((x * 19 + y * 37 + c * 71) % 256) : UInt16((x * 4099 + y * 7919 + c * 21011) % 65536)
    }

    /// Alpha cycles through opaque, transparent and half.
    static func alpha(_ x: Int, _ y: Int, bits: Int) -> UInt16 {
        let max = UInt16((1 << bits) - 1)
        return [max, 0, max / 2][(x + y) % 3]
    }

    static func to8(_ v: UInt16, bits: Int) -> Int { bits == 8 ? Int(v) : (Int(v) + 128) / 257 }

    struct Variant: CustomTestStringConvertible, Sendable {
        let colorType: Int32, bits: Int, interlaced: Bool
        var testDescription: String {
            let names: [Int32: String] = [PNG_COLOR_TYPE_GRAY: "grey", PNG_COLOR_TYPE_GRAY_ALPHA: "grey+alpha",
                                          PNG_COLOR_TYPE_RGB: "RGB", PNG_COLOR_TYPE_RGB_ALPHA: "RGBA"]
            return "\(names[colorType]!) \(bits)-bit\(interlaced ? " interlaced" : "")"
        }
    }

    static let variants: [Variant] = [PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                      PNG_COLOR_TYPE_RGB_ALPHA].flatMap { type in
        [8, 16].map { Variant(colorType: type, bits: $0, interlaced: false) }
    } + [Variant(colorType: PNG_COLOR_TYPE_RGB, bits: 8, interlaced: true),
         Variant(colorType: PNG_COLOR_TYPE_RGB_ALPHA, bits: 8, interlaced: true),
         Variant(colorType: PNG_COLOR_TYPE_GRAY, bits: 16, interlaced: true),
         Variant(colorType: PNG_COLOR_TYPE_RGB, bits: 16, interlaced: true),
         Variant(colorType: PNG_COLOR_TYPE_GRAY_ALPHA, bits: 16, interlaced: true)]

    @Test(arguments: variants)
    func decodesVariant(_ variant: Variant) throws {
        let grey = variant.colorType & PNG_COLOR_MASK_COLOR == 0
        let hasAlpha = variant.colorType & PNG_COLOR_MASK_ALPHA != 0
        let colours = grey ? 1 : 3
        var samples: [UInt16] = []
        for y in 0..<Self.height {
            for x in 0..<Self.width {
                for c in 0..<colours { samples.append(Self.sample(x, y, c, bits: variant.bits)) }
                if hasAlpha { samples.append(Self.alpha(x, y, bits: variant.bits)) }
            }
        }
        let png = PNGTestEncoder.encode(width: Self.width, height: Self.height, colorType: variant.colorType,
                                        bitDepth: Int32(variant.bits), samples: samples, interlaced: variant.interlaced)
        let image = try ImageCodecs.decode(png, name: "variant.png")
        // 16-bit data that goes through linear light (alpha, or the interlaced workaround) may be off by 1.
        let tolerance = variant.bits == 16 && (hasAlpha || variant.interlaced) ? 1 : 0
        #expect(image.width == Self.width && image.height == Self.height)
        for y in 0..<Self.height {
            for x in 0..<Self.width {
                let pixel = image[x, y]
                let got = [Int(pixel.r), Int(pixel.g), Int(pixel.b)]
                let colour = (0..<3).map { Self.to8(Self.sample(x, y, grey ? 0 : $0, bits: variant.bits), bits: variant.bits) }
                let a = hasAlpha ? Self.alpha(x, y, bits: variant.bits) : UInt16((1 << variant.bits) - 1)
                if a == UInt16((1 << variant.bits) - 1) {
                    #expect(zip(got, colour).allSatisfy { abs($0 - $1) <= tolerance }, "opaque (\(x), \(y)): \(got) vs \(colour)")
                } else if a == 0 {
                    #expect(got == [255, 255, 255], "transparent pixel (\(x), \(y)) is composited onto white")
                } else {
                    // Half-covered: libpng blends in linear light, so the result lies between the colour and
                    // white, no darker than the sRGB-space average.
                    for c in 0..<3 {
                        #expect(got[c] >= (colour[c] + 255) / 2 - 1 && got[c] <= 255, "half-covered (\(x), \(y))")
                    }
                }
            }
        }
    }

    @Test func decodesPaletteWithTransparency() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (12, 34, 56), (90, 80, 70)]
        // Index 4 is fully transparent.
        let indices = (0..<(Self.width * Self.height)).map { UInt16($0 % 5) }
        let png = PNGTestEncoder.encode(width: Self.width, height: Self.height, colorType: PNG_COLOR_TYPE_PALETTE,
                                        bitDepth: 8, samples: indices, palette: palette,
                                        transparency: [255, 255, 255, 255, 0])
        let image = try ImageCodecs.decode(png, name: "palette.png")
        for i in 0..<indices.count {
            let pixel = image[i % Self.width, i / Self.width]
            let expected = indices[i] == 4 ? (UInt8(255), UInt8(255), UInt8(255)) : palette[Int(indices[i])]
            #expect(pixel == expected, "pixel \(i)")
        }
    }

    @Test func decodesPaletteWithoutTransparency() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(1, 2, 3), (250, 251, 252)]
        let indices = (0..<(Self.width * Self.height)).map { UInt16(($0 / 3) % 2) }
        let png = PNGTestEncoder.encode(width: Self.width, height: Self.height, colorType: PNG_COLOR_TYPE_PALETTE,
                                        bitDepth: 8, samples: indices, palette: palette)
        let image = try ImageCodecs.decode(png, name: "palette.png")
        #expect((0..<indices.count).allSatisfy { image[$0 % Self.width, $0 / Self.width] == palette[Int(indices[$0])] })
    }
}
