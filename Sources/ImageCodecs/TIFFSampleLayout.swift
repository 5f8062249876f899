/// An 8- or 16-bit interleaved TIFF pixel layout that is read sample by sample (grey or RGB, white or
/// black as zero, an optional alpha sample), and its conversion to 8-bit RGB. Shared by the field
/// decoder (`TIFFDecoder`) and the slide reader (Slides).
public struct TIFFSampleLayout: Sendable, Equatable {
    public enum Alpha: Sendable, Equatable { case none, associated, unassociated }
    public var sixteenBit: Bool
    public var samplesPerPixel: Int
    public var grey: Bool
    public var minIsWhite: Bool
    public var alpha: Alpha

    public init(sixteenBit: Bool, samplesPerPixel: Int, grey: Bool, minIsWhite: Bool, alpha: Alpha) {
        self.sixteenBit = sixteenBit
        self.samplesPerPixel = samplesPerPixel
        self.grey = grey
        self.minIsWhite = minIsWhite
        self.alpha = alpha
    }

    /// Bytes of one pixel.
    public var bytesPerPixel: Int { samplesPerPixel * (sixteenBit ? 2 : 1) }

    /// Converts `count` pixels at `source` to RGB at `destination` (`3·count` bytes), alpha composited
    /// over white; 16-bit values become round(v·255/65535) = ⌊(v + 128) / 257⌋. 8-bit RGB is copied as
    /// it is. Cost: one pass over the pixels.
    public func convert(_ source: UnsafeRawPointer, count: Int, to destination: UnsafeMutablePointer<UInt8>) {
        if sixteenBit {
            convertSamples(source.assumingMemoryBound(to: UInt16.self), count: count, to: destination)
        } else if samplesPerPixel == 3 && !grey {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 3 * count)
        } else {
            convertSamples(source.assumingMemoryBound(to: UInt8.self), count: count, to: destination)
        }
    }

    @inline(__always)
    private func convertSamples<Sample: FixedWidthInteger & UnsignedInteger>(
        _ source: UnsafePointer<Sample>, count: Int, to destination: UnsafeMutablePointer<UInt8>
    ) {
        @inline(__always) func eight(_ v: Sample) -> Int { Sample.bitWidth == 8 ? Int(v) : (Int(v) + 128) / 257 }
        let step = samplesPerPixel, alphaIndex = grey ? 1 : 3
        var s = source, d = destination
        for _ in 0..<count {
            var r = eight(s[0]), g = r, b = r
            if !grey { g = eight(s[1]); b = eight(s[2]) }
            if minIsWhite { r = 255 - r; g = r; b = r }
            switch alpha {
            case .none: break
            case .unassociated:  // c·a + white·(1 − a)
                let a = eight(s[alphaIndex]), white = 255 * (255 - a)
                r = (r * a + white + 127) / 255; g = (g * a + white + 127) / 255; b = (b * a + white + 127) / 255
            case .associated:  // colour already multiplied by alpha: c + white·(1 − a)
                let a = eight(s[alphaIndex])
                r = min(255, r + 255 - a); g = min(255, g + 255 - a); b = min(255, b + 255 - a)
            }
            d[0] = UInt8(r); d[1] = UInt8(g); d[2] = UInt8(b)
            s += step
            d += 3
        }
    }
}
