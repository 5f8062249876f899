/// Sum of `n` floats with eight 8-lane partial sums (vectorised; the order differs from a left fold).
@inline(__always)
func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(), acc2 = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= n {
        acc += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        acc2 += raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
        i += 16
    }
    var s = (acc + acc2).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// `Σ (p[i] − c)²` over `n` floats, vectorised like `sum`.
@inline(__always)
func sumOfSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
    var acc = SIMD8<Float>()
    let cv = SIMD8<Float>(repeating: c), raw = UnsafeRawPointer(p)
    var i = 0
    while i + 8 <= n {
        let d = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - cv
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < n { let d = p[i] - c; s += d * d; i += 1 }
    return s
}

/// `(Σ a[i], Σ a[i]·(b[i] − c))` over `n` floats, vectorised like `sum`.
@inline(__always)
func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, minus c: Float) -> (Float, Float) {
    var s = SIMD8<Float>(), d = SIMD8<Float>()
    let cv = SIMD8<Float>(repeating: c), ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var i = 0
    while i + 8 <= n {
        let va = ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        s += va
        d += va * (rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - cv)
        i += 8
    }
    var ss = s.sum(), dd = d.sum()
    while i < n { ss += a[i]; dd += a[i] * (b[i] - c); i += 1 }
    return (ss, dd)
}
