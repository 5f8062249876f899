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
    /// How much of the field around a cell the crops from fields keep: a ring of this fraction of the
    /// longer side of the cell's box (`DetectedObject.crop(from:context:)`; 0.12: 6 px around a 50 px
    /// cell), in [0, 0.5]. 0 (the default, and what model files without the key mean) cuts the cell alone
    /// on black, as the NIH crops are published. A ring lets the network see what lies beside the cell,
    /// e.g. stain precipitate on the glass as well as on the cell (MODEL.md). It applies where crops are
    /// cut from fields (analysis, `smear crops`); image files given to training or classification are
    /// taken as they are.
    public var context: Float

    /// The contexts a model may record.
    public static let contexts: ClosedRange<Float> = 0 ... 0.5

    public init(fit: Fit = .pad, scale: Float = 1 / 255, context: Float = 0) { self.fit = fit; self.scale = scale; self.context = context }

    /// Why these settings cannot be used, or nil: `scale` must be finite and in (0, 1], so that network
    /// inputs are finite and in [0, 255] (`Model.worstCaseMagnitude` starts from 255 · `scale`), and
    /// `context` in [0, 0.5].
    var problem: String? {
        guard scale.isFinite && scale > 0 && scale <= 1 else { return "preprocessing scale \(scale) is not in (0, 1]" }
        return Self.contexts.contains(context) ? nil : "preprocessing context \(context) is not in [0, 0.5]"
    }

    private enum CodingKeys: String, CodingKey { case fit, scale, context }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(fit: try c.decode(Fit.self, forKey: .fit), scale: try c.decode(Float.self, forKey: .scale),
                  context: try c.decodeIfPresent(Float.self, forKey: .context) ?? 0)
    }

    /// Writes `context` only when it is not 0, so that a model without a ring keeps the header older
    /// versions of smear read.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(fit, forKey: .fit)
        try c.encode(scale, forKey: .scale)
        if context != 0 { try c.encode(context, forKey: .context) }
    }

    /// The crop fitted and resized to `width × height`, still 8-bit RGB (what training keeps in memory).
    /// Cost: O(source pixels + output pixels).
    public func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let g = geometry(image, width: width, height: height)
        if g.identity { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        out.withUnsafeMutableBufferPointer { o in
            image.pixels.withUnsafeBufferPointer { Self.areaResize($0.baseAddress!, image.width, image.height, g, bytes: o.baseAddress!) }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// `resize` then `planar` in one pass, without the intermediate image: writes the network input
    /// `[3, height, width]` for `image` into `out`. Bit for bit the same values as the two calls.
    public func input(_ image: RGBImage, width: Int, height: Int, into out: UnsafeMutablePointer<Float>) {
        let g = geometry(image, width: width, height: height)
        image.pixels.withUnsafeBufferPointer { src in
            if g.identity { planar(src.baseAddress!, count: width * height, into: out); return }
            Self.areaResize(src.baseAddress!, image.width, image.height, g, planar: out, scale: scale)
        }
    }

    /// Where the crop sits in the virtual source square (`pad`) or rectangle (`stretch`).
    struct Geometry {
        var sourceWidth: Int, sourceHeight: Int, offsetX: Int, offsetY: Int, width: Int, height: Int
        /// The crop's own size: a 47×48 crop padded to 48×48 has offset 0 but is not the output.
        var imageWidth: Int, imageHeight: Int
        var identity: Bool { imageWidth == width && imageHeight == height && sourceWidth == width && sourceHeight == height }
    }

    func geometry(_ image: RGBImage, width: Int, height: Int) -> Geometry {
        guard fit == .pad && image.width != image.height else {
            return Geometry(sourceWidth: image.width, sourceHeight: image.height, offsetX: 0, offsetY: 0, width: width, height: height,
                            imageWidth: image.width, imageHeight: image.height)
        }
        // Resample the virtual black square directly: source taps outside the crop read 0.
        let side = max(image.width, image.height)
        return Geometry(sourceWidth: side, sourceHeight: side, offsetX: (side - image.width) / 2, offsetY: (side - image.height) / 2,
                        width: width, height: height, imageWidth: image.width, imageHeight: image.height)
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
    /// with the `imageWidth × imageHeight` image placed at (`offsetX`, `offsetY`) on black. Separable: a
    /// horizontal pass into floats over the image rows that some output row uses, then a vertical pass
    /// that writes bytes (`bytes`, interleaved RGB) or scaled planar floats (`planar`).
    /// The arithmetic is that of `referenceAreaResize`, in the same order, so results are identical.
    /// Cost: O(used source pixels · taps + output pixels · taps), no allocation beyond two small scratch
    /// blocks.
    static func areaResize(_ src: UnsafePointer<UInt8>, _ imageWidth: Int, _ imageHeight: Int, _ g: Geometry,
                           bytes: UnsafeMutablePointer<UInt8>? = nil, planar: UnsafeMutablePointer<Float>? = nil, scale: Float = 1) {
        let width = g.width, height = g.height
        let maxTx = Taps.capacity(from: g.sourceWidth, to: width), maxTy = Taps.capacity(from: g.sourceHeight, to: height)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: maxTx + maxTy + width + height + 2) { ints in
            let ib = ints.baseAddress!
            withUnsafeTemporaryAllocation(of: Float.self, capacity: maxTx + maxTy) { weights in
                let tx = Taps(from: g.sourceWidth, to: width, offset: g.offsetX, limit: imageWidth,
                              index: ib, start: ib + maxTx, weight: weights.baseAddress!)
                let ty = Taps(from: g.sourceHeight, to: height, offset: g.offsetY, limit: imageHeight,
                              index: ib + maxTx + width + 1, start: ib + maxTx + width + 1 + maxTy, weight: weights.baseAddress! + maxTx)
                // Only the image rows that some vertical tap reads.
                var lo = imageHeight, hi = 0
                for t in 0 ..< ty.start[height] { lo = min(lo, ty.index[t]); hi = max(hi, ty.index[t] + 1) }
                let used = max(0, hi - lo), stride = 3 * imageWidth + 4
                withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: max(1, used * width + width)) { pixels in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, used * stride)) { floats in
                    // The used image rows as floats, each padded with 4 zeros so that a 4-lane load at the last
                    // pixel stays inside.
                    let image = floats.baseAddress!
                    for y in 0 ..< used {
                        let b = src + 3 * (lo + y) * imageWidth, f = image + y * stride
                        for i in 0 ..< 3 * imageWidth { f[i] = Float(b[i]) }
                        for i in 3 * imageWidth ..< stride { f[i] = 0 }
                    }
                    // Horizontal pass: per output column, its taps (in order) applied to every used row, one
                    // pixel (R, G, B, unused lane) per vector: `rows[y][x]`.
                    let rows = pixels.baseAddress!, raw = UnsafeRawPointer(image)
                    @inline(__always) func at(_ y: Int, _ i: Int) -> SIMD4<Float> {
                        raw.loadUnaligned(fromByteOffset: 4 * (y * stride + 3 * i), as: SIMD4<Float>.self)
                    }
                    for x in 0 ..< width {
                        let t0 = tx.start[x], n = tx.start[x + 1] - t0
                        let i0 = tx.index[t0], w0 = SIMD4(repeating: tx.weight[t0])
                        switch n {
                        case 0: for y in 0 ..< used { rows[y * width + x] = SIMD4() }
                        case 1: for y in 0 ..< used { rows[y * width + x] = SIMD4() + w0 * at(y, i0) }
                        case 2:
                            let i1 = tx.index[t0 + 1], w1 = SIMD4(repeating: tx.weight[t0 + 1])
                            for y in 0 ..< used { rows[y * width + x] = SIMD4() + w0 * at(y, i0) + w1 * at(y, i1) }
                        case 3:
                            let i1 = tx.index[t0 + 1], w1 = SIMD4(repeating: tx.weight[t0 + 1])
                            let i2 = tx.index[t0 + 2], w2 = SIMD4(repeating: tx.weight[t0 + 2])
                            for y in 0 ..< used { rows[y * width + x] = SIMD4() + w0 * at(y, i0) + w1 * at(y, i1) + w2 * at(y, i2) }
                        default:
                            for y in 0 ..< used {
                                var a = SIMD4<Float>()
                                for t in t0 ..< t0 + n { a += SIMD4(repeating: tx.weight[t]) * at(y, tx.index[t]) }
                                rows[y * width + x] = a
                            }
                        }
                    }
                    // Vertical pass: per output row, its taps in order, then rounding to a byte.
                    let plane = width * height, acc = rows + used * width
                    for y in 0 ..< height {
                        let t0 = ty.start[y], n = ty.start[y + 1] - t0
                        for x in 0 ..< width { acc[x] = SIMD4() }
                        for t in t0 ..< t0 + n {
                            let w = SIMD4(repeating: ty.weight[t]), row = rows + (ty.index[t] - lo) * width
                            for x in 0 ..< width { acc[x] += w * row[x] }
                        }
                        for x in 0 ..< width {
                            let a = acc[x] + 0.5
                            let v = a.replacing(with: 0, where: a .< 0).replacing(with: 255, where: a .> 255)
                            // trunc(v) for 0 ≤ v ≤ 255 (what the byte conversion does): round to nearest with 2²³,
                            // minus 1 where that rounded up. All four lanes are stored, so the compiler keeps this
                            // in vector registers.
                            let magic = SIMD4<Float>(repeating: 8_388_608)
                            let r = (v + magic) - magic
                            acc[x] = r.replacing(with: r - 1, where: r .> v)
                        }
                        if let planar {
                            let o = planar + y * width
                            for x in 0 ..< width { let t = acc[x] * scale; o[x] = t[0]; o[plane + x] = t[1]; o[2 * plane + x] = t[2] }
                        } else if let bytes {
                            let o = bytes + 3 * y * width
                            for x in 0 ..< width { let t = acc[x]; o[3 * x] = UInt8(t[0]); o[3 * x + 1] = UInt8(t[1]); o[3 * x + 2] = UInt8(t[2]) }
                        }
                    }
                }
                }
            }
        }
    }

    /// For each output index, the source indices it covers and their normalised weights, in caller-provided
    /// memory (`index`/`weight`: `capacity(from:to:)` entries, `start`: m + 1).
    private struct Taps {
        let index: UnsafeMutablePointer<Int>, start: UnsafeMutablePointer<Int>, weight: UnsafeMutablePointer<Float>

        /// Upper bound on the number of taps from `n` source positions to `m`.
        static func capacity(from n: Int, to m: Int) -> Int { n + m + 1 }

        /// Taps from `n` source positions to `m`; source position j is image index j − `offset`, and only
        /// image indices in [0, `limit`) are kept (the rest is black padding). Same weights as `ReferenceTaps`.
        init(from n: Int, to m: Int, offset: Int, limit: Int, index: UnsafeMutablePointer<Int>, start: UnsafeMutablePointer<Int>,
             weight: UnsafeMutablePointer<Float>) {
            self.index = index; self.start = start; self.weight = weight
            let ratio = Double(n) / Double(m)
            var count = 0
            start[0] = 0
            for i in 0 ..< m {
                let lo = Double(i) * ratio, hi = Double(i + 1) * ratio
                var j = Int(lo.rounded(.down))
                while Double(j) < hi && j < n {
                    let w = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if w > 1e-9 && j - offset >= 0 && j - offset < limit { index[count] = j - offset; weight[count] = Float(w / ratio); count += 1 }
                    j += 1
                }
                start[i + 1] = count
            }
        }
    }

    /// The original array-based implementation of the area resize: the tests' reference for `areaResize`.
    static func referenceAreaResize(_ image: RGBImage, width: Int, height: Int, sourceWidth: Int? = nil, sourceHeight: Int? = nil,
                           offsetX: Int = 0, offsetY: Int = 0) -> RGBImage {
        let sw = sourceWidth ?? image.width, sh = sourceHeight ?? image.height
        if image.width == width && image.height == height && sw == width && sh == height { return image }
        let tx = ReferenceTaps(from: sw, to: width, offset: offsetX, limit: image.width)
        let ty = ReferenceTaps(from: sh, to: height, offset: offsetY, limit: image.height)
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
    private struct ReferenceTaps {
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
