/// Max pooling over `size × size` windows moved by `stride`, no padding (a partial last window is dropped:
/// output `⌊(H − size) / stride⌋ + 1`). Backward routes each `dy` to the first maximum of its window.
/// Cost: `size²` comparisons per output.
public final class MaxPool: Layer {
    public let inputShape: Shape
    public let outputShape: Shape
    public let size: Int, stride: Int

    public init(input: Shape, size: Int, stride: Int? = nil) {
        inputShape = input
        self.size = size
        self.stride = stride ?? size
        let oh = (input.height - size) / self.stride + 1, ow = (input.width - size) / self.stride + 1
        precondition(oh > 0 && ow > 0, "max pool \(size) does not fit input \(input)")
        outputShape = Shape(input.channels, oh, ow)
    }

    // x: [batch, C, H, W] → y: [batch, C, Ho, Wo]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = size, s = stride, c = inputShape.channels
        for plane in samples.lowerBound * c ..< samples.upperBound * c {
            let src = x + plane * h * w, dst = y + plane * oh * ow
            if k == 2 && s == 2 {  // the common case: four windows at a time, then one by one
                for oy in 0 ..< oh {
                    let r0 = src + 2 * oy * w, r1 = r0 + w, d = dst + oy * ow
                    var ox = 0
                    while ox &+ 4 <= ow && 2 &* ox &+ 8 <= w {
                        let top = UnsafeRawPointer(r0 + 2 &* ox).loadUnaligned(as: SIMD8<Float>.self)
                        let bottom = UnsafeRawPointer(r1 + 2 &* ox).loadUnaligned(as: SIMD8<Float>.self)
                        let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, e = bottom.oddHalf
                        // The same choices as the scalar loop: x >= y ? x : y.
                        let ab = a.replacing(with: b, where: a .< b), ce = c.replacing(with: e, where: c .< e)
                        UnsafeMutableRawPointer(d + ox).storeBytes(of: ab.replacing(with: ce, where: ab .< ce), as: SIMD4<Float>.self)
                        ox &+= 4
                    }
                    for ox in ox ..< ow {
                        let a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], e = r1[2 * ox + 1]
                        let ab = a >= b ? a : b, ce = c >= e ? c : e
                        d[ox] = ab >= ce ? ab : ce
                    }
                }
                continue
            }
            for oy in 0 ..< oh {
                for ox in 0 ..< ow {
                    let base = src + oy * s * w + ox * s
                    var m = base[0]
                    for ky in 0 ..< k { for kx in 0 ..< k { let v = base[ky * w + kx]; m = v > m ? v : m } }
                    dst[oy * ow + ox] = m
                }
            }
        }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        guard let dx else { return }
        backward(x, dy, dx, samples: samples, rectified: false)
    }

    /// Backward; with `rectified`, `x` is a ReLU's output and the gradient is routed only where the window's
    /// maximum is positive, which also performs that ReLU's backward (`dx` is then ∂loss/∂(ReLU input)).
    func backward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                  samples: Range<Int>, rectified: Bool) {
        let h = inputShape.height, w = inputShape.width, oh = outputShape.height, ow = outputShape.width
        let k = size, s = stride, c = inputShape.channels
        for plane in samples.lowerBound * c ..< samples.upperBound * c {
            let src = x + plane * h * w, d = dx + plane * h * w, g = dy + plane * oh * ow
            if k == 2 && s == 2 {  // windows tile the map: write every covered element once, zero the rest
                for oy in 0 ..< oh {
                    let r0 = src + 2 * oy * w, r1 = r0 + w, d0 = d + 2 * oy * w, d1 = d0 + w, gr = g + oy * ow
                    var ox = 0
                    while ox + 8 <= ow {  // eight windows at a time
                        Self.route8(r0 + 2 * ox, r1 + 2 * ox, gr + ox, d0 + 2 * ox, d1 + 2 * ox, rectified)
                        ox += 8
                    }
                    if ox + 4 <= ow {  // then four
                        Self.route4(r0 + 2 * ox, r1 + 2 * ox, gr + ox, d0 + 2 * ox, d1 + 2 * ox, rectified)
                        ox += 4
                    }
                    while ox < ow {
                        let a = r0[2 * ox], b = r0[2 * ox + 1], cc = r1[2 * ox], e = r1[2 * ox + 1]
                        let m = max(max(a, b), max(cc, e))
                        let v = rectified && m <= 0 ? 0 : gr[ox]
                        let pa = a == m, pb = !pa && b == m, pc = !(pa || pb) && cc == m, pe = !(pa || pb || pc)
                        d0[2 * ox] = pa ? v : 0; d0[2 * ox + 1] = pb ? v : 0
                        d1[2 * ox] = pc ? v : 0; d1[2 * ox + 1] = pe ? v : 0
                        ox += 1
                    }
                    for x in 2 * ow ..< w { d0[x] = 0; d1[x] = 0 }
                }
                for y in 2 * oh ..< h { (d + y * w).update(repeating: 0, count: w) }
                continue
            }
            d.update(repeating: 0, count: h * w)
            for oy in 0 ..< oh {
                for ox in 0 ..< ow {
                    let base = oy * s * w + ox * s
                    var best = base, m = src[base]
                    for ky in 0 ..< k {
                        for kx in 0 ..< k where src[base + ky * w + kx] > m {
                            m = src[base + ky * w + kx]; best = base + ky * w + kx
                        }
                    }
                    if !rectified || m > 0 { d[best] += g[oy * ow + ox] }
                }
            }
        }
    }

    /// Backward of eight adjacent 2×2 windows (rows `r0`, `r1`, 16 floats each) with SIMD: the gradient of
    /// each window goes to its first maximum (row-major order), zero elsewhere.
    @inline(__always)
    private static func route8(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                               _ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>, _ rectified: Bool) {
        let top = UnsafeRawPointer(r0).loadUnaligned(as: SIMD16<Float>.self)
        let bottom = UnsafeRawPointer(r1).loadUnaligned(as: SIMD16<Float>.self)
        let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, e = bottom.oddHalf
        let ab = a.replacing(with: b, where: b .> a), ce = c.replacing(with: e, where: e .> c)
        let m = ab.replacing(with: ce, where: ce .> ab)
        var v = UnsafeRawPointer(g).loadUnaligned(as: SIMD8<Float>.self)
        if rectified { v.replace(with: 0, where: m .<= 0) }
        let pa = a .== m, pb = (b .== m) .& .!pa, pc = (c .== m) .& .!(pa .| pb), pe = .!(pa .| pb .| pc)
        let zero = SIMD8<Float>()
        let va = zero.replacing(with: v, where: pa), vb = zero.replacing(with: v, where: pb)
        let vc = zero.replacing(with: v, where: pc), ve = zero.replacing(with: v, where: pe)
        UnsafeMutableRawPointer(d0).storeBytes(of: interleave(va, vb), as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(d1).storeBytes(of: interleave(vc, ve), as: SIMD16<Float>.self)
    }

    /// `route8` for four windows (rows of 8 floats).
    @inline(__always)
    private static func route4(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                               _ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>, _ rectified: Bool) {
        let top = UnsafeRawPointer(r0).loadUnaligned(as: SIMD8<Float>.self)
        let bottom = UnsafeRawPointer(r1).loadUnaligned(as: SIMD8<Float>.self)
        let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, e = bottom.oddHalf
        let ab = a.replacing(with: b, where: b .> a), ce = c.replacing(with: e, where: e .> c)
        let m = ab.replacing(with: ce, where: ce .> ab)
        var v = UnsafeRawPointer(g).loadUnaligned(as: SIMD4<Float>.self)
        if rectified { v.replace(with: 0, where: m .<= 0) }
        let pa = a .== m, pb = (b .== m) .& .!pa, pc = (c .== m) .& .!(pa .| pb), pe = .!(pa .| pb .| pc)
        let zero = SIMD4<Float>()
        let va = zero.replacing(with: v, where: pa), vb = zero.replacing(with: v, where: pb)
        let vc = zero.replacing(with: v, where: pc), ve = zero.replacing(with: v, where: pe)
        UnsafeMutableRawPointer(d0).storeBytes(of: SIMD8(va[0], vb[0], va[1], vb[1], va[2], vb[2], va[3], vb[3]), as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(d1).storeBytes(of: SIMD8(vc[0], ve[0], vc[1], ve[1], vc[2], ve[2], vc[3], ve[3]), as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func interleave(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD16<Float> {
        SIMD16(x[0], y[0], x[1], y[1], x[2], y[2], x[3], y[3], x[4], y[4], x[5], y[5], x[6], y[6], x[7], y[7])
    }
}
