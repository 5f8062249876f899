import CTIFF
import Testing
import ImageCodecs

/// TIFF variants written with libtiff decode to the expected RGB.
@Suite struct TIFFDecoderTests {
    static let width = 37, height = 21  // not multiples of the 16-pixel tiles and strips

    static func sample(_ x: Int, _ y: Int, _ c: Int, bits: Int32) -> UInt16 {
        bits == 8 ? UInt16((x * 19 + y * 37 + c * 71) % 256) : UInt16((x * 4099 + y * 7919 + c * 21011) % 65536)
    }

    /// Smooth content for the lossy JPEG codec.
    static func smooth(_ x: Int, _ y: Int, _ c: Int) -> UInt16 {
        UInt16([40 + 4 * x, 30 + 6 * y, 200 - 2 * x - 2 * y][c])
    }

    static func to8(_ v: UInt16, bits: Int32) -> UInt8 { bits == 8 ? UInt8(v) : UInt8((Int(v) + 128) / 257) }

    /// Interleaved samples for `channels` colour channels (+ `extra` extra channels from `extraValue`).
    static func samples(channels: Int, bits: Int32, smooth useSmooth: Bool = false, extra: Int = 0,
                        extraValue: (Int, Int) -> UInt16 = { _, _ in 0 }) -> [UInt16] {
        var out: [UInt16] = []
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { out.append(useSmooth ? smooth(x, y, c) : sample(x, y, c, bits: bits)) }
                for _ in 0..<extra { out.append(extraValue(x, y)) }
            }
        }
        return out
    }

    /// The RGB image `samples` of `channels` colour channels should decode to (no alpha).
    static func expected(_ samples: [UInt16], channels: Int, extra: Int = 0, bits: Int32) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let step = channels + extra
        for i in 0..<(width * height) {
            let c = (0..<3).map { to8(samples[i * step + (channels == 1 ? 0 : $0)], bits: bits) }
            image[i % width, i / width] = (c[0], c[1], c[2])
        }
        return image
    }

    struct Variant: CustomTestStringConvertible, Sendable {
        let tiled: Bool, bits: Int32, grey: Bool, compression: Int32
        var testDescription: String {
            let codec = [COMPRESSION_NONE: "none", COMPRESSION_LZW: "LZW", COMPRESSION_ADOBE_DEFLATE: "Deflate"][compression]!
            return "\(tiled ? "tiles" : "strips"), \(bits)-bit \(grey ? "grey" : "RGB"), \(codec)"
        }
    }

    static let losslessVariants: [Variant] = [false, true].flatMap { tiled in
        [Int32(8), 16].flatMap { bits in
            [true, false].flatMap { grey in
                [COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE].map {
                    Variant(tiled: tiled, bits: bits, grey: grey, compression: $0)
                }
            }
        }
    }

    @Test(arguments: losslessVariants)
    func decodesLosslessVariant(_ variant: Variant) throws {
        let channels = variant.grey ? 1 : 3
        let values = Self.samples(channels: channels, bits: variant.bits)
        var options = TIFFTestEncoder.Options()
        options.bitsPerSample = variant.bits
        options.photometric = variant.grey ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB
        options.compression = variant.compression
        options.tile = variant.tiled ? 16 : nil
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: channels,
                                          samples: values, options)
        #expect(ImageCodecs.detectFormat(tiff) == .tiff)
        let image = try ImageCodecs.decode(tiff, name: "variant.tif")
        #expect(image == Self.expected(values, channels: channels, bits: variant.bits))
    }

    @Test(arguments: [false, true], [PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_RGB, PHOTOMETRIC_YCBCR])
    func decodesJPEGCompressed(tiled: Bool, photometric: Int32) throws {
        let channels = photometric == PHOTOMETRIC_MINISBLACK ? 1 : 3
        let values = Self.samples(channels: channels, bits: 8, smooth: true)
        var options = TIFFTestEncoder.Options()
        options.photometric = photometric
        options.compression = COMPRESSION_JPEG
        options.tile = tiled ? 16 : nil
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: channels,
                                          samples: values, options)
        let image = try ImageCodecs.decode(tiff, name: "jpeg.tif")
        #expect(Orientation.meanDifference(image, Self.expected(values, channels: channels, bits: 8)) < 2.5)
    }

    @Test func decodesBigEndian16Bit() throws {
        let values = Self.samples(channels: 3, bits: 16)
        var options = TIFFTestEncoder.Options()
        options.bitsPerSample = 16
        options.bigEndian = true
        options.compression = COMPRESSION_LZW
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 3, samples: values, options)
        #expect(Array(tiff.prefix(4)) == [0x4D, 0x4D, 0x00, 0x2A])
        #expect(try ImageCodecs.decode(tiff, name: "mm.tif") == Self.expected(values, channels: 3, bits: 16))
    }

    @Test(arguments: [Int32(8), 16])
    func decodesMinIsWhite(bits: Int32) throws {
        let values = Self.samples(channels: 1, bits: bits)
        var options = TIFFTestEncoder.Options()
        options.bitsPerSample = bits
        options.photometric = PHOTOMETRIC_MINISWHITE
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 1, samples: values, options)
        let inverted = values.map { UInt16((1 << bits) - 1) - $0 }
        #expect(try ImageCodecs.decode(tiff, name: "white.tif") == Self.expected(inverted, channels: 1, bits: bits))
    }

    /// Separate colour planes go through libtiff's RGBA conversion.
    @Test(arguments: [Int32(8), 16])
    func decodesSeparatePlanes(bits: Int32) throws {
        let values = Self.samples(channels: 3, bits: bits)
        var options = TIFFTestEncoder.Options()
        options.bitsPerSample = bits
        options.separatePlanes = true
        options.compression = COMPRESSION_ADOBE_DEFLATE
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 3, samples: values, options)
        #expect(try ImageCodecs.decode(tiff, name: "planes.tif") == Self.expected(values, channels: 3, bits: bits))
    }

    /// A palette image goes through libtiff's RGBA conversion; 16-bit colour map entries c·257 give c.
    @Test func decodesPalette() throws {
        let colours: [(UInt16, UInt16, UInt16)] = [(255, 0, 0), (0, 128, 0), (7, 8, 9), (200, 210, 220)]
        var colormap = [[UInt16]](repeating: [UInt16](repeating: 0, count: 256), count: 3)
        for (i, c) in colours.enumerated() {
            colormap[0][i] = c.0 * 257; colormap[1][i] = c.1 * 257; colormap[2][i] = c.2 * 257
        }
        let indices = (0..<(Self.width * Self.height)).map { UInt16($0 % colours.count) }
        var options = TIFFTestEncoder.Options()
        options.photometric = PHOTOMETRIC_PALETTE
        options.colormap = colormap
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 1, samples: indices, options)
        let image = try ImageCodecs.decode(tiff, name: "palette.tif")
        for i in 0..<indices.count {
            let c = colours[Int(indices[i])]
            #expect(image[i % Self.width, i / Self.width] == (UInt8(c.0), UInt8(c.1), UInt8(c.2)))
        }
    }

    /// Alpha (associated or not, 8 or 16 bits) is composited onto white: opaque keeps the colour,
    /// transparent is white, half-covered is halfway.
    @Test(arguments: [Int32(8), 16], [UInt16(EXTRASAMPLE_UNASSALPHA), UInt16(EXTRASAMPLE_ASSOCALPHA)])
    func compositesAlphaOntoWhite(bits: Int32, kind: UInt16) throws {
        let full = UInt16((1 << bits) - 1)
        func alpha(_ x: Int, _ y: Int) -> UInt16 { [full, 0, full / 2 + 1][(x + y) % 3] }
        var values = Self.samples(channels: 3, bits: bits, extra: 1, extraValue: alpha)
        if kind == UInt16(EXTRASAMPLE_ASSOCALPHA) {  // store premultiplied colour
            for i in stride(from: 0, to: values.count, by: 4) {
                for c in 0..<3 { values[i + c] = UInt16(UInt32(values[i + c]) * UInt32(values[i + 3]) / UInt32(full)) }
            }
        }
        var options = TIFFTestEncoder.Options()
        options.bitsPerSample = bits
        options.extraSamples = [kind]
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 4, samples: values, options)
        let image = try ImageCodecs.decode(tiff, name: "alpha.tif")
        for y in 0..<Self.height {
            for x in 0..<Self.width {
                let p = image[x, y], got = [Int(p.r), Int(p.g), Int(p.b)]
                let colour = (0..<3).map { Int(Self.to8(Self.sample(x, y, $0, bits: bits), bits: bits)) }
                switch alpha(x, y) {
                case full: #expect(zip(got, colour).allSatisfy { abs($0 - $1) <= 1 }, "opaque (\(x), \(y))")
                case 0: #expect(got == [255, 255, 255], "transparent (\(x), \(y))")
                default: #expect(zip(got, colour).allSatisfy { abs($0 - ($1 + 255) / 2) <= 2 }, "half (\(x), \(y))")
                }
            }
        }
    }

    /// Both paths: interleaved samples (read directly) and separate planes (libtiff's RGBA interface,
    /// which on its own ignores the transposing orientations 5–8).
    @Test(arguments: 1...8, [false, true])
    func appliesOrientationTag(orientation: Int, separatePlanes: Bool) throws {
        let values = Self.samples(channels: 3, bits: 8)
        var options = TIFFTestEncoder.Options()
        options.orientation = Int32(orientation)
        options.separatePlanes = separatePlanes
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 3, samples: values, options)
        let stored = Self.expected(values, channels: 3, bits: 8)
        #expect(try ImageCodecs.decode(tiff, name: "oriented.tif") == Orientation.displayed(stored, orientation: orientation))
    }

    @Test func readsOnlyTheFirstPage() throws {
        let values = Self.samples(channels: 1, bits: 8)
        var options = TIFFTestEncoder.Options()
        options.photometric = PHOTOMETRIC_MINISBLACK
        options.extraPages = 2
        let tiff = TIFFTestEncoder.encode(width: Self.width, height: Self.height, samplesPerPixel: 1, samples: values, options)
        #expect(try ImageCodecs.decode(tiff, name: "pages.tif") == Self.expected(values, channels: 1, bits: 8))
    }
}
