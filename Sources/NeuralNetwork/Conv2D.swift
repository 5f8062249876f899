/// 2-D convolution with zero padding: weights `[outC, inC, k, k]`, bias `[outC]`.
///
/// `y[n, o, oy, ox] = b[o] + Σ_{c,ky,kx} w[o, c, ky, kx] · x[n, c, oy·s − p + ky, ox·s − p + kx]`,
/// out-of-image taps read 0. Output size `⌊(H + 2p − k) / s⌋ + 1` per side.
/// Implementation: im2col into a `[inC·k·k, g·Ho·Wo]` matrix for a group of `g` samples, then one
/// `cblas_sgemm`; the network splits samples across threads. Cost: `2·outC·inC·k²·Ho·Wo` flops
/// per sample forward, twice that backward.
public final class Conv2D: Layer {
    public let inputShape: Shape
    public let outputShape: Shape
    public let kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter
    public var parameters: [Parameter] { [weight, bias] }

    /// Per-thread scratch: columns, GEMM output / gathered gradient, column gradient, and one sample's input
    /// (or input gradient) with its zero border (`paddedCount` floats; the border is never written, so it
    /// stays zero), and the padded input gradient of `col2im`.
    private final class Scratch: @unchecked Sendable {
        let col = Workspace(), out = Workspace(), dcol = Workspace(), padded = Workspace(), dpadded = Workspace()
        /// The phase planes of inference (`phaseCount` floats; a layout of its own, so not shared with `padded`).
        let phases = Workspace()
    }
    private var scratch: [Scratch] = []
    private let dw: GradientAccumulators, db: GradientAccumulators

    /// GEMMs on fewer columns than this waste most of the BLAS kernel; small feature maps are grouped.
    static let targetColumns = 1024

    public init(input: Shape, filters: Int, kernel: Int, stride: Int = 1, padding: Int) {
        precondition(filters > 0 && kernel > 0 && stride > 0 && padding >= 0)
        inputShape = input
        self.kernel = kernel; self.stride = stride; self.padding = padding
        let oh = (input.height + 2 * padding - kernel) / stride + 1
        let ow = (input.width + 2 * padding - kernel) / stride + 1
        precondition(oh > 0 && ow > 0, "convolution \(kernel)×\(kernel) does not fit input \(input)")
        outputShape = Shape(filters, oh, ow)
        weight = Parameter(name: "weight", count: filters * input.channels * kernel * kernel, decays: true)
        bias = Parameter(name: "bias", count: filters, decays: false)
        dw = GradientAccumulators(count: weight.value.count)
        db = GradientAccumulators(count: filters)
        scratch = (0 ..< Parallel.threads).map { _ in Scratch() }
    }

    private var rows: Int { inputShape.channels * kernel * kernel }

    /// Stride 1 with output size equal to input size ("same" padding): the fast im2col/col2im path.
    private var preservesSize: Bool {
        stride == 1 && outputShape.height == inputShape.height && outputShape.width == inputShape.width
    }

    /// Zeroes, in a row of `Ho·Wo` taps shifted horizontally by `dx`, the columns whose source pixel lies
    /// left (`dx < 0`) or right (`dx > 0`) of the image.
    @inline(__always)
    private func zeroOutsideColumns(_ row: UnsafeMutablePointer<Float>, _ dx: Int) {
        let w = outputShape.width, h = outputShape.height
        if dx > 0 { for y in 0 ..< h { let r = row + y * w; for x in max(0, w - dx) ..< w { r[x] = 0 } } }
        if dx < 0 { for y in 0 ..< h { let r = row + y * w; for x in 0 ..< min(w, -dx) { r[x] = 0 } } }
    }

    private func groupSize(_ n: Int) -> Int {
        let hw = outputShape.height * outputShape.width
        return max(1, min(n, (Self.targetColumns + hw - 1) / hw))
    }

    /// Height and width of the zero-padded input plane, `H + 2p` × `W + 2p`.
    private var paddedHeight: Int { inputShape.height + 2 * padding }
    private var paddedWidth: Int { inputShape.width + 2 * padding }
    /// Floats of a padded sample (all channels), plus slack for the 8-float loads of the stride-2 gather.
    var paddedCount: Int { inputShape.channels * paddedHeight * paddedWidth + 16 }

    /// Unfolds one sample `x[inC, H, W]` into `col[inC·k·k, Ho·Wo]` whose rows are `ld` floats apart.
    /// The sample is first copied into the zero-bordered planes `padded` (`paddedCount` floats, border zero),
    /// so that every row of `col` is a plain (strided) copy without bounds tests.
    /// Cost: `inC·(H·W + k²·Ho·Wo)` copies.
    func paddedIm2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, padded: UnsafeMutablePointer<Float>) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = kernel, s = stride, p = padding, ph = paddedHeight, pw = paddedWidth, planeSize = ph * pw
        for c in 0 ..< inputShape.channels {
            let plane = padded + c * planeSize, source = x + c * h * w
            for y in 0 ..< h { Self.copy(source + y * w, plane + (y + p) * pw + p, w) }
        }
        for c in 0 ..< inputShape.channels {
            let plane = UnsafePointer(padded + c * planeSize)
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let row = col + ((c * k + ky) * k + kx) * ld
                    for oy in 0 ..< oh {
                        let src = plane + (oy * s + ky) * pw + kx, dst = row + oy * ow
                        if s == 1 { Self.copy(src, dst, ow) } else if s == 2 { Self.gather2(src, dst, ow) }
                        else { for ox in 0 ..< ow { dst[ox] = src[ox &* s] } }
                    }
                }
            }
        }
    }

    /// Writes into `dx[inC, H, W]` the sum of `col[inC·k·k, Ho·Wo]` (rows `ld` apart) over the taps that
    /// read each input element; the adjoint of `im2col`. The sums are formed in `padded` (zeroed here), tap
    /// by tap in (channel, ky, kx) order, then the interior is copied out. Cost: `inC·(k²·Ho·Wo + 2·H·W)`.
    func paddedCol2im(_ col: UnsafePointer<Float>, ld: Int, _ dx: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = kernel, s = stride, p = padding, ph = paddedHeight, pw = paddedWidth, planeSize = ph * pw
        padded.update(repeating: 0, count: inputShape.channels * planeSize)
        for c in 0 ..< inputShape.channels {
            let plane = padded + c * planeSize
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let row = col + ((c * k + ky) * k + kx) * ld
                    for oy in 0 ..< oh {
                        let dst = plane + (oy * s + ky) * pw + kx, src = row + oy * ow
                        if s == 1 { Self.add(src, dst, ow) } else { for ox in 0 ..< ow { dst[ox &* s] += src[ox] } }
                    }
                }
            }
        }
        for c in 0 ..< inputShape.channels {
            let plane = UnsafePointer(padded + c * planeSize), target = dx + c * h * w
            for y in 0 ..< h { Self.copy(plane + (y + p) * pw + p, target + y * w, w) }
        }
    }

    /// `dst[0..<n] = src[0..<n]`, four floats at a time (short rows: no call into memcpy).
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var i = 0
        while i &+ 8 <= n {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD8<Float>.self), toByteOffset: 4 &* i, as: SIMD8<Float>.self)
            i &+= 8
        }
        if i &+ 4 <= n {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD4<Float>.self), toByteOffset: 4 &* i, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n { dst[i] = src[i]; i &+= 1 }
    }

    /// `dst[i] += src[i]` for `i < n`, four at a time.
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var i = 0
        while i &+ 4 <= n {
            let sum = to.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD4<Float>.self) + from.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD4<Float>.self)
            to.storeBytes(of: sum, toByteOffset: 4 &* i, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n { dst[i] += src[i]; i &+= 1 }
    }

    /// `dst[i] = src[2i]` for `i < n`; reads up to `src[2n + 6]`.
    @inline(__always)
    static func gather2(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        var i = 0
        while i &+ 4 <= n {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: 8 &* i, as: SIMD8<Float>.self).evenHalf, toByteOffset: 4 &* i, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n { dst[i] = src[2 &* i]; i &+= 1 }
    }

    private func scratchFor(_ thread: Int) -> Scratch {
        precondition(thread < scratch.count, "Parallel.threads was raised after this layer was built")
        return scratch[thread]
    }

    /// A per-output-channel affine map `y ← y·scale + shift`, optionally rectified, applied while the
    /// convolution writes its output: how inference folds a following BatchNorm and ReLU into it.
    public struct Epilogue {
        public var scale: UnsafePointer<Float>?
        public var shift: UnsafePointer<Float>
        public var relu: Bool
        /// Inference only: then a 2×2 stride-2 max pool (the output is the pooled map), and after it a
        /// per-channel `y·postScale + postShift` (a BatchNorm in inference).
        public var pool = false
        public var postScale: UnsafePointer<Float>? = nil
        public var postShift: UnsafePointer<Float>? = nil
    }

    // x: [batch, inC, H, W] → y: [batch, outC, Ho, Wo]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        forward(x, y, samples: samples, thread: thread, epilogue: Epilogue(scale: nil, shift: bias.value.pointer, relu: false), mode: mode)
    }

    /// The convolution followed by `epilogue` (the plain layer uses `shift` = bias).
    ///
    /// Inference goes through `forwardOnGrid` (blocked GEMMs, fused epilogues, strided maps on the phase-plane
    /// grid); training keeps its `im2col` layout and GEMM shapes, so that training arithmetic (and so trained
    /// weights) do not depend on the inference path.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, epilogue: Epilogue,
                        mode: Mode = .training) {
        if mode == .inference {
            forgetColumns(samples)
            return forwardOnGrid(x, y, samples: samples, thread: thread, epilogue: epilogue)
        }
        precondition(!epilogue.pool && epilogue.postScale == nil, "pooling epilogues are for inference")
        let hw = outputShape.height * outputShape.width, oc = outputShape.channels, rows = rows
        let inCount = inputShape.count, outCount = outputShape.count
        let w = weight.value.pointer
        let g = groupSize(samples.count), scratch = scratchFor(thread)
        let keep = samples.upperBound <= columnCapacity
        let scratchCol = keep ? nil : scratch.col.reserve(rows * g * hw), tmp = scratch.out.reserve(oc * g * hw)
        let padded = scratch.padded.reserve(paddedCount)
        @inline(__always) func finish(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ o: Int) {
            let a = epilogue.scale?[o] ?? 1, b = epilogue.shift[o]
            if epilogue.relu { for j in 0 ..< hw { let v = src[j] * a + b; dst[j] = v > 0 ? v : 0 } }
            else { for j in 0 ..< hw { dst[j] = src[j] * a + b } }
        }
        var n0 = samples.lowerBound
        while n0 < samples.upperBound {
            let gn = min(g, samples.upperBound - n0), cols = gn * hw
            let single = kernel == 1 && stride == 1 && padding == 0 && gn == 1
            // The group's columns, kept for backward when the batch fits the cache.
            let col = keep ? columns.pointer + n0 * rows * hw : scratchCol!
            if !single { for i in 0 ..< gn { im2col(x + (n0 + i) * inCount, col + i * hw, ld: cols, padded: padded) } }
            if keep { cachedGroup[n0] = single ? 0 : gn; cachedInput[n0] = x }
            let source = single ? x + n0 * inCount : UnsafePointer(col)
            if gn == 1 {
                let out = y + n0 * outCount
                gemm(false, false, oc, hw, rows, 1, w, rows, source, hw, 0, out, hw)
                for o in 0 ..< oc { finish(out + o * hw, out + o * hw, o) }
            } else {
                gemm(false, false, oc, cols, rows, 1, w, rows, source, cols, 0, tmp, cols)
                for i in 0 ..< gn { for o in 0 ..< oc { finish(tmp + o * cols + i * hw, y + (n0 + i) * outCount + o * hw, o) } }
            }
            n0 += gn
        }
    }

    // MARK: Inference on the phase-plane grid

    /// Geometry of the phase planes: the zero-padded input `(H + 2p) × (W + 2p)` split into `s²` planes by
    /// (row mod s, column mod s), each `rows × width` (one spare row: the last taps read a little past the
    /// last row). Tap (ky, kx) of output (oy, ox) is element (oy + ky/s, ox + kx/s) of plane (ky mod s,
    /// kx mod s), so with outputs laid on a grid `Ho × width` every row of `col` is ONE contiguous copy.
    /// The `width − Wo` extra columns per output row are computed and dropped.
    var gridWidth: Int { (paddedWidth + stride - 1) / stride }
    private var gridRows: Int { (paddedHeight + stride - 1) / stride + 1 }
    /// Floats of the phase planes of one sample (all channels).
    var phaseCount: Int { inputShape.channels * stride * stride * gridRows * gridWidth }

    /// Writes the sample `x[inC, H, W]` into its phase planes (`phaseCount` floats whose other elements must be
    /// zero: they are never written, so a buffer that only this layer uses stays valid).
    func fillPhasePlanes(_ x: UnsafePointer<Float>, _ planes: UnsafeMutablePointer<Float>) {
        let h = inputShape.height, w = inputShape.width, s = stride, p = padding
        let qw = gridWidth, planeSize = gridRows * qw
        for c in 0 ..< inputShape.channels {
            let base = planes + c * s * s * planeSize, source = x + c * h * w
            for y in 0 ..< h {
                let py = y + p, row = source + y * w
                let line = base + (py % s) * s * planeSize + (py / s) * qw
                if s == 1 { Self.copy(row, line + p, w); continue }
                if s == 2 {
                    // Input column x is padded column x + p: even x go to plane p mod 2 at x/2 + ⌊p/2⌋, odd x to
                    // plane (p + 1) mod 2 at (x − 1)/2 + ⌊(p + 1)/2⌋.
                    let even = line + (p & 1) * planeSize + (p >> 1), odd = line + ((p + 1) & 1) * planeSize + ((p + 1) >> 1)
                    let raw = UnsafeRawPointer(row)
                    var m = 0
                    while 2 &* m &+ 8 <= w {
                        let v = raw.loadUnaligned(fromByteOffset: 8 &* m, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(even + m).storeBytes(of: v.evenHalf, as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(odd + m).storeBytes(of: v.oddHalf, as: SIMD4<Float>.self)
                        m &+= 4
                    }
                    while 2 &* m < w {
                        even[m] = row[2 &* m]
                        if 2 &* m &+ 1 < w { odd[m] = row[2 &* m &+ 1] }
                        m &+= 1
                    }
                    continue
                }
                // Column x of the input is padded column x + p: plane (x + p) mod s, position (x + p) / s.
                for x in 0 ..< w { let px = x &+ p; line[(px % s) * planeSize + px / s] = row[x] }
            }
        }
    }

    /// Unfolds output rows `firstRow ..< firstRow + rows` of one sample's phase planes into
    /// `col[inC·k·k, rows·width]` (rows of `col` `ld` apart): one contiguous copy per row of `col`.
    func gridIm2col(_ planes: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, firstRow: Int, rows: Int) {
        let k = kernel, s = stride, qw = gridWidth, planeSize = gridRows * qw, n = rows * qw, start = firstRow * qw
        for c in 0 ..< inputShape.channels {
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let plane = planes + ((c * s + ky % s) * s + kx % s) * planeSize + start
                    (col + ((c * k + ky) * k + kx) * ld).update(from: plane + (ky / s) * qw + kx / s, count: n)
                }
            }
        }
    }

    /// Output rows `rows` of `shiftedIm2col` for a same-size stride-1 convolution: `col[inC·k·k, rows·W]`
    /// (rows of `col` `ld` apart), each row one contiguous copy of the shifted plane plus zero fix-ups.
    func shiftedIm2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, rows: Range<Int>) {
        let w = inputShape.width, hw = inputShape.height * w, k = kernel, p = padding
        let first = rows.lowerBound * w, end = rows.upperBound * w
        for c in 0 ..< inputShape.channels {
            let plane = x + c * hw
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let row = col + ((c * k + ky) * k + kx) * ld
                    let dx = kx - p, d = (ky - p) * w + dx
                    // Output positions j ∈ [first, end) read plane[j + d] when 0 ≤ j + d < H·W.
                    let lo = min(end, max(first, -d)), hi = max(lo, min(end, hw - d))
                    if lo > first { row.update(repeating: 0, count: lo - first) }
                    (row + (lo - first)).update(from: plane + lo + d, count: hi - lo)
                    if end > hi { (row + (hi - first)).update(repeating: 0, count: end - hi) }
                    // Taps that wrapped around a row edge.
                    if dx > 0 { for y in 0 ..< rows.count { let r = row + y * w; for x in max(0, w - dx) ..< w { r[x] = 0 } } }
                    if dx < 0 { for y in 0 ..< rows.count { let r = row + y * w; for x in 0 ..< min(w, -dx) { r[x] = 0 } } }
                }
            }
        }
    }

    /// Inference forward: per group of samples, phase planes → contiguous im2col → one GEMM on the grid →
    /// epilogue that keeps the `Wo` valid columns of each grid row. Large maps are cut into blocks of output
    /// rows (`gridColumns` columns or more each), so that the unfolded columns stay in the core's cache for
    /// the GEMM's own packing pass.
    func forwardOnGrid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, epilogue: Epilogue) {
        // Same-size stride-1 maps are unfolded exactly (shifted planes, no extra columns: the grid's 2 extra
        // columns per row cost more GEMM time than the fix-ups, e.g. 8 % of the seed net's flops); strided
        // convolutions on the phase-plane grid.
        let exact = preservesSize
        let pool = epilogue.pool, ow = outputShape.width, qw = exact ? ow : gridWidth
        // With pooling only the rows that a 2×2 window covers are computed.
        let oh = pool ? outputShape.height / 2 * 2 : outputShape.height, grid = oh * qw
        let outW = pool ? ow / 2 : ow, outPlane = (pool ? oh / 2 : oh) * outW
        let oc = outputShape.channels, rows = rows, inCount = inputShape.count, outCount = oc * outPlane
        let w = weight.value.pointer
        let g = max(1, min(samples.count, (Self.gridColumns + grid - 1) / grid)), scratch = scratchFor(thread)
        // Output rows per block when one sample alone exceeds the target (then g = 1); even when pooling.
        var blockRows = grid > Self.blockColumns ? max(1, min(oh, (Self.blockColumns + qw - 1) / qw)) : oh
        if pool { blockRows += blockRows & 1 }
        let blockCols = g > 1 ? g * grid : blockRows * qw
        let col = scratch.col.reserve(rows * blockCols), tmp = scratch.out.reserve(oc * blockCols)
        let planes = scratch.phases.reserve(phaseCount)
        let scale = epilogue.scale, shift = epilogue.shift, relu = epilogue.relu
        let postScale = epilogue.postScale, postShift = epilogue.postShift
        /// Output rows r0 ..< r1 (even bounds when pooling) from the GEMM result `src` (rows `ld` apart).
        @inline(__always) func finish(_ src: UnsafePointer<Float>, _ ld: Int, _ out: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
            for o in 0 ..< oc {
                let a = scale?[o] ?? 1, b = shift[o]
                let so = src + o * ld, dst = out + o * outPlane
                if pool {
                    let pa = postScale?[o] ?? 1, pb = postShift?[o] ?? 0, post = postScale != nil
                    for r in Swift.stride(from: r0, to: r1, by: 2) {
                        let top = so + (r - r0) * qw
                        Self.affinePool(top, top + qw, dst + r / 2 * outW, outW, a, b, relu, post, pa, pb)
                    }
                } else {
                    for r in r0 ..< r1 { Self.affine(so + (r - r0) * qw, dst + r * ow, ow, a, b, relu) }
                }
            }
        }
        var n0 = samples.lowerBound
        while n0 < samples.upperBound {
            let gn = min(g, samples.upperBound - n0)
            if gn == 1 && blockRows < oh {
                if !exact { fillPhasePlanes(x + n0 * inCount, planes) }
                var r0 = 0
                while r0 < oh {
                    let r1 = min(oh, r0 + blockRows), cols = (r1 - r0) * qw
                    if exact { shiftedIm2col(x + n0 * inCount, col, ld: cols, rows: r0 ..< r1) }
                    else { gridIm2col(planes, col, ld: cols, firstRow: r0, rows: r1 - r0) }
                    gemm(false, false, oc, cols, rows, 1, w, rows, col, cols, 0, tmp, cols)
                    finish(tmp, cols, y + n0 * outCount, r0, r1)
                    r0 = r1
                }
                n0 += 1
                continue
            }
            let cols = gn * grid
            for i in 0 ..< gn {
                if exact { shiftedIm2col(x + (n0 + i) * inCount, col + i * grid, ld: cols, rows: 0 ..< oh); continue }
                fillPhasePlanes(x + (n0 + i) * inCount, planes)
                gridIm2col(planes, col + i * grid, ld: cols, firstRow: 0, rows: oh)
            }
            gemm(false, false, oc, cols, rows, 1, w, rows, col, cols, 0, tmp, cols)
            for i in 0 ..< gn { finish(tmp + i * grid, cols, y + (n0 + i) * outCount, 0, oh) }
            n0 += gn
        }
    }

    /// One pooled output row: `dst[j]` = max over the 2×2 window (rows `top`, `bottom`, columns 2j, 2j + 1) of
    /// `v·a + b` (rectified when `relu`), then `·pa + pb` when `post`.
    ///
    /// Rounding is monotonic, so `v ↦ fl(v·a + b)` is non-decreasing for a ≥ 0 and non-increasing for a < 0:
    /// the window's maximum of the mapped values is the map of the window's maximum (a ≥ 0) or minimum
    /// (a < 0) — the same value as mapping all four and pooling (as the separate layers do), at a quarter of
    /// the arithmetic.
    @inline(__always)
    static func affinePool(_ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                           _ a: Float, _ b: Float, _ relu: Bool, _ post: Bool, _ pa: Float, _ pb: Float) {
        let av = SIMD4<Float>(repeating: a), bv = SIMD4<Float>(repeating: b), zero = SIMD4<Float>()
        let pav = SIMD4<Float>(repeating: pa), pbv = SIMD4<Float>(repeating: pb), increasing = a >= 0
        var j = 0
        while j &+ 4 <= n {
            let t = UnsafeRawPointer(top + 2 &* j).loadUnaligned(as: SIMD8<Float>.self)
            let u = UnsafeRawPointer(bottom + 2 &* j).loadUnaligned(as: SIMD8<Float>.self)
            let p = t.evenHalf, q = t.oddHalf, c = u.evenHalf, e = u.oddHalf
            let m: SIMD4<Float>
            if increasing {
                let pq = p.replacing(with: q, where: p .< q), ce = c.replacing(with: e, where: c .< e)
                m = pq.replacing(with: ce, where: pq .< ce)
            } else {
                let pq = p.replacing(with: q, where: q .< p), ce = c.replacing(with: e, where: e .< c)
                m = pq.replacing(with: ce, where: ce .< pq)
            }
            var v = m * av + bv
            if relu { v.replace(with: zero, where: v .<= zero) }
            if post { v = v * pav + pbv }
            UnsafeMutableRawPointer(dst + j).storeBytes(of: v, as: SIMD4<Float>.self)
            j &+= 4
        }
        while j < n {
            let p = top[2 &* j], q = top[2 &* j &+ 1], c = bottom[2 &* j], e = bottom[2 &* j &+ 1]
            let m = increasing ? max(max(p, q), max(c, e)) : min(min(p, q), min(c, e))
            var v = m * a + b
            if relu { v = v > 0 ? v : 0 }
            dst[j] = post ? v * pa + pb : v
            j &+= 1
        }
    }

    /// `dst[j] = src[j]·a + b` (then max(·, 0) when `relu`) for `j < n`, four at a time.
    @inline(__always)
    static func affine(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float, _ relu: Bool) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        let av = SIMD4<Float>(repeating: a), bv = SIMD4<Float>(repeating: b), zero = SIMD4<Float>()
        var j = 0
        while j &+ 4 <= n {
            var v = from.loadUnaligned(fromByteOffset: 4 &* j, as: SIMD4<Float>.self) * av + bv
            if relu { v.replace(with: zero, where: v .<= zero) }
            to.storeBytes(of: v, toByteOffset: 4 &* j, as: SIMD4<Float>.self)
            j &+= 4
        }
        while j < n { let v = src[j] * a + b; dst[j] = relu ? (v > 0 ? v : 0) : v; j &+= 1 }
    }

    /// Columns per GEMM that inference aims for (groups of samples on the grid).
    static let gridColumns = 128
    /// Columns per GEMM block when one sample's map is larger than that.
    static let blockColumns = 512

    public func beginBackward(threads: Int) { dw.begin(threads: threads); db.begin(threads: threads) }
    public func endBackward() { dw.end(into: weight.gradient); db.end(into: bias.gradient) }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        let hw = outputShape.height * outputShape.width, oc = outputShape.channels, rows = rows
        let inCount = inputShape.count, outCount = outputShape.count
        let w = weight.value.pointer
        let g = groupSize(samples.count), scratch = scratchFor(thread)
        let scratchCol = scratch.col.reserve(rows * g * hw), dyg = scratch.out.reserve(oc * g * hw)
        let dcol = scratch.dcol.reserve(rows * g * hw), padded = scratch.padded.reserve(paddedCount)
        let dpadded = scratch.dpadded.reserve(paddedCount)
        let dwt = dw(thread), dbt = db(thread)
        var n0 = samples.lowerBound
        while n0 < samples.upperBound {
            let gn = min(g, samples.upperBound - n0), cols = gn * hw
            // The columns of the training forward of this very group, else unfolded again.
            let cached = n0 < columnCapacity && cachedGroup[n0] == gn && cachedInput[n0] == x
            let col = cached ? columns.pointer + n0 * rows * hw : scratchCol
            if !cached { for i in 0 ..< gn { im2col(x + (n0 + i) * inCount, col + i * hw, ld: cols, padded: padded) } }
            let d: UnsafePointer<Float>
            if gn == 1 { d = dy + n0 * outCount } else {
                for i in 0 ..< gn {
                    for o in 0 ..< oc {
                        let src = dy + (n0 + i) * outCount + o * hw, dst = dyg + o * cols + i * hw
                        for j in 0 ..< hw { dst[j] = src[j] }
                    }
                }
                d = UnsafePointer(dyg)
            }
            for o in 0 ..< oc { dbt[o] += sum(d + o * cols, cols) }
            gemm(false, true, oc, rows, cols, 1, d, cols, col, cols, 1, dwt, rows)
            if let dx {
                gemm(true, false, rows, cols, oc, 1, w, rows, d, cols, 0, dcol, cols)
                for i in 0 ..< gn { col2im(dcol + i * hw, ld: cols, dx + (n0 + i) * inCount, padded: dpadded) }
            }
            n0 += gn
        }
    }

    // MARK: Columns kept from the training forward

    /// The unfolded columns of the last training forward, `rows · Ho·Wo` floats per sample (a group starting
    /// at sample n is at n · rows · Ho·Wo, rows `gn · Ho·Wo` apart), so that backward does not unfold the same
    /// input again. `cachedGroup[n]`/`cachedInput[n]`: the group size and batch input of the group that
    /// starts at n (0: none). Sized by `reserveColumns` before a pass, never while one runs.
    private var columns = Buffer(count: 0)
    private var columnCapacity = 0
    private var cachedGroup = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var cachedInput = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: 1)

    /// Makes room for the columns of `batch` samples (training passes call this first; without it the
    /// forward unfolds into scratch and backward unfolds again). Memory: `batch · rows · Ho·Wo` floats.
    public func reserveColumns(_ batch: Int) {
        guard batch > columnCapacity else { return }
        cachedGroup.deallocate(); cachedInput.deallocate()
        columns = Buffer(unfilledCount: batch * rows * outputShape.height * outputShape.width)
        cachedGroup = .allocate(capacity: batch); cachedGroup.initialize(repeating: 0, count: batch)
        cachedInput = .allocate(capacity: batch); cachedInput.initialize(repeating: nil, count: batch)
        columnCapacity = batch
    }

    /// Marks the groups starting in `samples` as not cached (an inference pass on other inputs).
    private func forgetColumns(_ samples: Range<Int>) {
        for n in samples where n < columnCapacity { cachedGroup[n] = 0 }
    }

    deinit { cachedGroup.deallocate(); cachedInput.deallocate() }

    /// Unfolds one sample for the training path: same-size stride-1 maps as whole shifted planes
    /// (`shiftedIm2col`: one long copy per row of `col`), everything else through the padded planes
    /// (`paddedIm2col`: no per-element bounds tests, short rows). Both give the same values.
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, padded: UnsafeMutablePointer<Float>) {
        if usesShiftedPlanes { shiftedIm2col(x, col, ld: ld) } else { paddedIm2col(x, col, ld: ld, padded: padded) }
    }

    /// The adjoint of `im2col`, writing `dx` (`col` is scratch). Same choice of method as `im2col`.
    func col2im(_ col: UnsafeMutablePointer<Float>, ld: Int, _ dx: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        if usesShiftedPlanes {
            dx.update(repeating: 0, count: inputShape.count)
            shiftedCol2im(col, ld: ld, dx)
        } else {
            paddedCol2im(col, ld: ld, dx, padded: padded)
        }
    }

    /// Same-size stride-1 maps: a few long copies per tap beat one short copy per output row (measured on
    /// 50-, 25- and 12-wide maps); strided maps go through the padded planes (no per-element gather tests).
    private var usesShiftedPlanes: Bool { preservesSize }

    /// `im2col` of the whole map. Same-size stride-1 convolutions use the shifted planes of the row-range
    /// version above over all rows; any other geometry the general bounds-testing loop, which the tests keep
    /// as the reference for `paddedIm2col`.
    func shiftedIm2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = kernel, s = stride, p = padding
        if preservesSize { shiftedIm2col(x, col, ld: ld, rows: 0 ..< h); return }
        for c in 0 ..< inputShape.channels {
            let plane = x + c * h * w
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let row = col + ((c * k + ky) * k + kx) * ld
                    // Output columns whose input column ox·s − p + kx lies inside [0, w).
                    let lo = min(ow, max(0, (p - kx + s - 1) / s))
                    let last = w - 1 + p - kx
                    let hi = last < 0 ? lo : max(lo, min(ow, last / s + 1))
                    for oy in 0 ..< oh {
                        let iy = oy * s - p + ky
                        let out = row + oy * ow
                        if iy < 0 || iy >= h { for ox in 0 ..< ow { out[ox] = 0 }; continue }
                        for ox in 0 ..< lo { out[ox] = 0 }
                        let src = plane + iy * w - p + kx
                        if s == 1 {
                            for ox in lo ..< hi { out[ox] = src[ox] }
                        } else {
                            for ox in lo ..< hi { out[ox] = src[ox * s] }
                        }
                        for ox in hi ..< ow { out[ox] = 0 }
                    }
                }
            }
        }
    }

    /// Adds `col` back into `dx`, the adjoint of `shiftedIm2col`. `col` is scratch (the same-size path zeroes
    /// its out-of-image taps in place).
    func shiftedCol2im(_ col: UnsafeMutablePointer<Float>, ld: Int, _ dx: UnsafeMutablePointer<Float>) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = kernel, s = stride, p = padding
        if preservesSize {
            let hw = h * w
            for c in 0 ..< inputShape.channels {
                let plane = dx + c * hw
                for ky in 0 ..< k {
                    for kx in 0 ..< k {
                        let row = col + ((c * k + ky) * k + kx) * ld
                        let shift = kx - p, d = (ky - p) * w + shift
                        let lo = min(hw, max(0, -d)), hi = max(lo, min(hw, hw - d))
                        zeroOutsideColumns(row, shift)
                        let target = plane + d
                        for j in lo ..< hi { target[j] += row[j] }
                    }
                }
            }
            return
        }
        for c in 0 ..< inputShape.channels {
            let plane = dx + c * h * w
            for ky in 0 ..< k {
                for kx in 0 ..< k {
                    let row = col + ((c * k + ky) * k + kx) * ld
                    let lo = min(ow, max(0, (p - kx + s - 1) / s))
                    let last = w - 1 + p - kx
                    let hi = last < 0 ? lo : max(lo, min(ow, last / s + 1))
                    for oy in 0 ..< oh {
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= h { continue }
                        let src = row + oy * ow
                        let dst = plane + iy * w - p + kx
                        for ox in lo ..< hi { dst[ox * s] += src[ox] }
                    }
                }
            }
        }
    }

    /// Direct seven-loop convolution with the same contract as `forward`: the tests' reference.
    public func referenceForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int) {
        let ic = inputShape.channels, h = inputShape.height, w = inputShape.width
        let oc = outputShape.channels, oh = outputShape.height, ow = outputShape.width, k = kernel
        for n in 0 ..< batch {
            for o in 0 ..< oc {
                for oy in 0 ..< oh {
                    for ox in 0 ..< ow {
                        var s = bias.value[o]
                        for c in 0 ..< ic {
                            for ky in 0 ..< k {
                                for kx in 0 ..< k {
                                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                                    s += weight.value[((o * ic + c) * k + ky) * k + kx] * x[((n * ic + c) * h + iy) * w + ix]
                                }
                            }
                        }
                        y[((n * oc + o) * oh + oy) * ow + ox] = s
                    }
                }
            }
        }
    }
}
