import ImageCodecs

/// How a cell crop of any size becomes the network input; stored in the model file and applied
/// identically by training, evaluation, classification and the pipeline.
///
/// 1. Fit: `pad` centres the crop on a black square whose side is the crop's longer side (aspect kept,
///    like the NIH crops' black surround); `stretch` uses the crop as is (aspect changes).
/// 2. Resize to the network input with area averaging (each output pixel is the coverage-weighted mean of
///    the source pixels under it; upscaling degrades to nearest-neighbour-like box sampling).
/// 3. Scale: value = byte · `scale` (1/255 maps to [0, 1]), channels planar (CHW) in R, G, B order.
public struct Preprocessing: Codable, Equatable, Sendable {
    public enum Fit: String, Codable, Sendable, CaseIterable { case pad, stretch }
    public var fit: Fit
    public var scale: Float

    public init(fit: Fit = .pad, scale: Float = 1 / 255) { self.fit = fit; self.scale = scale }

    /// The crop fitted and resized to `width × height`, still 8-bit RGB (what training keeps in memory).
    /// Cost: O(source pixels + output pixels).
    public func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        guard fit == .pad && image.width != image.height else { return Self.areaResize(image, width: width, height: height) }
        // Resample the virtual black square directly: source taps outside the crop read 0.
        let side = max(image.width, image.height)
        return Self.areaResize(image, width: width, height: height, sourceWidth: side, sourceHeight: side,
                               offsetX: (side - image.width) / 2, offsetY: (side - image.height) / 2)
    }

    /// Writes `image` (already `width × height`) as planar floats `[3, height, width]` scaled by `scale`.
    public func planar(_ image: RGBImage, into out: UnsafeMutablePointer<Float>) {
        image.pixels.withUnsafeBufferPointer { planar($0.baseAddress!, count: image.width * image.height, into: out) }
    }

    /// Same as `planar(_:into:)` for `count` interleaved RGB pixels at `p`.
    public func planar(_ p: UnsafePointer<UInt8>, count plane: Int, into out: UnsafeMutablePointer<Float>) {
        let s = scale
        for i in 0 ..< plane {
            out[i] = Float(p[3 * i]) * s
            out[plane + i] = Float(p[3 * i + 1]) * s
            out[2 * plane + i] = Float(p[3 * i + 2]) * s
        }
    }

    /// Box-filter resampling: output pixel (x, y) averages source area [x·sx, (x+1)·sx) × [y·sy, (y+1)·sy)
    /// with fractional edge weights, rounded to the nearest byte. The source is `sourceWidth × sourceHeight`
    /// with `image` placed at (`offsetX`, `offsetY`) on black. Separable: a horizontal pass into floats,
    /// then a vertical pass. Cost: O(source pixels + output pixels · taps).
    static func areaResize(_ image: RGBImage, width: Int, height: Int, sourceWidth: Int? = nil, sourceHeight: Int? = nil,
                           offsetX: Int = 0, offsetY: Int = 0) -> RGBImage {
        let sw = sourceWidth ?? image.width, sh = sourceHeight ?? image.height
        if sw == width && sh == height && offsetX == 0 && offsetY == 0 { return image }
        let tx = Taps(from: sw, to: width, offset: offsetX, limit: image.width)
        let ty = Taps(from: sh, to: height, offset: offsetY, limit: image.height)
        var rows = [Float](repeating: 0, count: image.height * width * 3)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { rows in
                for y in 0 ..< image.height {
                    let line = src.baseAddress! + 3 * y * image.width, dst = rows.baseAddress! + 3 * y * width
                    for x in 0 ..< width {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        for t in tx.range(x) {
                            let i = 3 * tx.index[t], f = tx.weight[t]
                            r += f * Float(line[i]); g += f * Float(line[i + 1]); b += f * Float(line[i + 2])
                        }
                        dst[3 * x] = r; dst[3 * x + 1] = g; dst[3 * x + 2] = b
                    }
                }
                out.withUnsafeMutableBufferPointer { out in
                    for y in 0 ..< height {
                        let dst = out.baseAddress! + 3 * y * width
                        for i in 0 ..< 3 * width {
                            var v: Float = 0
                            for t in ty.range(y) { v += ty.weight[t] * rows[3 * width * ty.index[t] + i] }
                            dst[i] = UInt8(min(255, max(0, v + 0.5)))
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// For each output index, the source indices it covers and their normalised weights (flat lists).
    private struct Taps {
        var index: [Int] = [], weight: [Float] = [], start: [Int] = [0]

        /// Taps from `n` source positions to `m`; source position j is image index j − `offset`, and only
        /// image indices in [0, `limit`) are kept (the rest is black padding).
        init(from n: Int, to m: Int, offset: Int, limit: Int) {
            let ratio = Double(n) / Double(m)
            for i in 0 ..< m {
                let lo = Double(i) * ratio, hi = Double(i + 1) * ratio
                var j = Int(lo.rounded(.down))
                while Double(j) < hi && j < n {
                    let w = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if w > 1e-9 && j - offset >= 0 && j - offset < limit { index.append(j - offset); weight.append(Float(w / ratio)) }
                    j += 1
                }
                start.append(index.count)
            }
        }

        @inline(__always) func range(_ i: Int) -> Range<Int> { start[i] ..< start[i + 1] }
    }
}
