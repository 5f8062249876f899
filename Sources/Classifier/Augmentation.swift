import Foundation
import ImageCodecs
import NeuralNetwork

/// Random training-time changes to a fitted 8-bit crop, written straight into the network input.
///
/// Geometry: one of the 8 symmetries of the square (flips and 90° rotations) when `symmetries` is on.
/// Colour, on cell pixels only (pure black background stays black, as in the crops):
/// hue rotation by up to ±`hue` radians about the grey axis, contrast ×(1 ± `contrast`) about the cell's
/// mean colour, brightness ×(1 ± `brightness`); clamped to [0, 255] before scaling.
/// Compression, when `jpeg` > 0: half of the crops first go through a JPEG generation (4:2:0) at a
/// quality drawn from `jpeg`…95, the loss a field or slide tile stored as JPEG once more shows. The
/// background is filled with the cell's mean colour for it and is exactly as it was afterwards. With
/// `jpeg` 0 the random stream is that of no compression.
public struct Augmentation: Codable, Equatable, Sendable {
    public var symmetries: Bool
    public var brightness: Float
    public var contrast: Float
    public var hue: Float
    /// The lowest JPEG quality of the compression (1–95), 0 for none.
    public var jpeg: Int

    public init(symmetries: Bool = true, brightness: Float = 0.1, contrast: Float = 0.1, hue: Float = 0.05, jpeg: Int = 0) {
        precondition((0...Self.bestJPEGQuality).contains(jpeg), "the lowest JPEG quality is 0 (none) or 1–95")
        self.symmetries = symmetries; self.brightness = brightness; self.contrast = contrast; self.hue = hue; self.jpeg = jpeg
    }

    public static let none = Augmentation(symmetries: false, brightness: 0, contrast: 0, hue: 0)

    /// Highest quality the compression draws.
    public static let bestJPEGQuality = 95

    /// Transforms the square interleaved-RGB image `src` (`side × side`) into planar floats `out[3, side, side]`
    /// multiplied by `scale`. Cost: O(pixels), a 3×3 colour matrix per pixel; with compression, a JPEG
    /// encode and decode of the crop for half of them (about 20 ns per pixel).
    public func apply(_ src: UnsafePointer<UInt8>, side: Int, scale: Float, into out: UnsafeMutablePointer<Float>,
                      rng: inout SeededGenerator) {
        let symmetry = symmetries ? Int(rng.next() % 8) : 0
        let b = 1 + brightness * (2 * rng.uniform() - 1)
        let c = 1 + contrast * (2 * rng.uniform() - 1)
        let theta = hue * (2 * rng.uniform() - 1)
        if jpeg > 0 {
            let compress = rng.next() % 2 == 0
            let quality = jpeg + Int(rng.next() % UInt64(Self.bestJPEGQuality - jpeg + 1))
            if compress {
                var compressed = Self.backgroundFilled(src, pixels: side * side)
                let done = compressed.withUnsafeMutableBufferPointer { buffer in
                    guard JPEGEncoder.roundTrip(buffer.baseAddress!, width: side, height: side, quality: quality, into: buffer.baseAddress!) else { return false }
                    Self.keepBackground(of: src, in: buffer.baseAddress!, pixels: side * side)
                    return true
                }
                if done {
                    compressed.withUnsafeBufferPointer { colour(symmetry: symmetry, b: b, c: c, theta: theta, $0.baseAddress!, side: side, scale: scale, into: out) }
                    return
                }
            }
        }
        colour(symmetry: symmetry, b: b, c: c, theta: theta, src, side: side, scale: scale, into: out)
    }

    /// `pixels` RGB pixels of `src` with the black background set to the cell's mean colour, so that
    /// compression sees no black edge at the mask (a field has glass there, not black) and the rim is
    /// not darkened by ringing. An all-black crop stays black.
    static func backgroundFilled(_ src: UnsafePointer<UInt8>, pixels: Int) -> [UInt8] {
        var sum = (0, 0, 0), cells = 0
        for i in 0 ..< pixels where src[3 * i] | src[3 * i + 1] | src[3 * i + 2] != 0 {
            sum.0 += Int(src[3 * i]); sum.1 += Int(src[3 * i + 1]); sum.2 += Int(src[3 * i + 2]); cells += 1
        }
        var out = [UInt8](UnsafeBufferPointer(start: src, count: 3 * pixels))
        guard cells > 0 else { return out }
        let fill = (UInt8(sum.0 / cells), UInt8(sum.1 / cells), UInt8(sum.2 / cells))
        for i in 0 ..< pixels where out[3 * i] | out[3 * i + 1] | out[3 * i + 2] == 0 {
            out[3 * i] = fill.0; out[3 * i + 1] = fill.1; out[3 * i + 2] = fill.2
        }
        return out
    }

    /// Pixels black in `original` are black in `changed` again, and the others are not black (a channel
    /// raised to 1 where compression made one black), so the cell's mask is unchanged.
    static func keepBackground(of original: UnsafePointer<UInt8>, in changed: UnsafeMutablePointer<UInt8>, pixels: Int) {
        for i in 0 ..< pixels {
            let o = 3 * i
            if original[o] | original[o + 1] | original[o + 2] == 0 {
                changed[o] = 0; changed[o + 1] = 0; changed[o + 2] = 0
            } else if changed[o] | changed[o + 1] | changed[o + 2] == 0 {
                changed[o + 1] = 1
            }
        }
    }

    /// The symmetry and colour change of `apply` with its random draws made.
    private func colour(symmetry: Int, b: Float, c: Float, theta: Float, _ src: UnsafePointer<UInt8>, side: Int, scale: Float,
                        into out: UnsafeMutablePointer<Float>) {
        // Rotation about (1,1,1)/√3 by θ (Rodrigues), then contrast about the mean, then brightness.
        let cosT = cosf(theta), sinT = sinf(theta), third = (1 - cosT) / 3, r = sinT / Float(3).squareRoot()
        let m: [Float] = [cosT + third, third - r, third + r,
                          third + r, cosT + third, third - r,
                          third - r, third + r, cosT + third]
        let plane = side * side
        var mean: (Float, Float, Float) = (0, 0, 0)
        var cells = 0
        for i in 0 ..< plane where src[3 * i] | src[3 * i + 1] | src[3 * i + 2] != 0 {
            mean.0 += Float(src[3 * i]); mean.1 += Float(src[3 * i + 1]); mean.2 += Float(src[3 * i + 2]); cells += 1
        }
        if cells > 0 { mean = (mean.0 / Float(cells), mean.1 / Float(cells), mean.2 / Float(cells)) }
        for y in 0 ..< side {
            for x in 0 ..< side {
                let (sx, sy) = Self.source(x, y, side: side, symmetry: symmetry)
                let s = src + 3 * (sy * side + sx), o = y * side + x
                if s[0] | s[1] | s[2] == 0 { out[o] = 0; out[plane + o] = 0; out[2 * plane + o] = 0; continue }
                let v0 = Float(s[0]) - mean.0, v1 = Float(s[1]) - mean.1, v2 = Float(s[2]) - mean.2
                let r0 = (m[0] * v0 + m[1] * v1 + m[2] * v2) * c + mean.0
                let r1 = (m[3] * v0 + m[4] * v1 + m[5] * v2) * c + mean.1
                let r2 = (m[6] * v0 + m[7] * v1 + m[8] * v2) * c + mean.2
                out[o] = min(255, max(0, r0 * b)) * scale
                out[plane + o] = min(255, max(0, r1 * b)) * scale
                out[2 * plane + o] = min(255, max(0, r2 * b)) * scale
            }
        }
    }

    /// The source pixel that destination (x, y) reads under symmetry `symmetry` (0–7) of a
    /// `side × side` square: bit 0 flips x, bit 1 flips y, bit 2 then swaps x and y. 0 is the identity.
    @inline(__always)
    static func source(_ x: Int, _ y: Int, side: Int, symmetry: Int) -> (Int, Int) {
        var sx = x, sy = y
        if symmetry & 1 != 0 { sx = side - 1 - sx }
        if symmetry & 2 != 0 { sy = side - 1 - sy }
        if symmetry & 4 != 0 { swap(&sx, &sy) }
        return (sx, sy)
    }

    /// The planar network input `src` (`[channels, side, side]`) under symmetry `symmetry` (see
    /// `source`), into `out` (same shape, not overlapping `src`): what `symmetric(_:side:symmetry:scale:into:)`
    /// gives for the bytes the input was made from. Cost: O(values), a copy.
    public static func symmetric(planar src: UnsafePointer<Float>, side: Int, channels: Int, symmetry: Int, into out: UnsafeMutablePointer<Float>) {
        let plane = side * side
        for y in 0 ..< side {
            for x in 0 ..< side {
                let (sx, sy) = source(x, y, side: side, symmetry: symmetry)
                for c in 0 ..< channels { out[c * plane + y * side + x] = src[c * plane + sy * side + sx] }
            }
        }
    }

    /// The square interleaved-RGB image `src` (`side × side`) under symmetry `symmetry` (see `source`),
    /// as planar floats `out[3, side, side]` multiplied by `scale`, with no colour change: the inputs of
    /// test-time augmentation. Symmetry 0 gives what `Preprocessing.planar` gives. Cost: O(pixels).
    public static func symmetric(_ src: UnsafePointer<UInt8>, side: Int, symmetry: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        let plane = side * side
        for y in 0 ..< side {
            for x in 0 ..< side {
                let (sx, sy) = source(x, y, side: side, symmetry: symmetry)
                let s = src + 3 * (sy * side + sx), o = y * side + x
                out[o] = Float(s[0]) * scale
                out[plane + o] = Float(s[1]) * scale
                out[2 * plane + o] = Float(s[2]) * scale
            }
        }
    }
}
