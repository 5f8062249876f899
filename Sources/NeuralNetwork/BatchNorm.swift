import Foundation

/// Batch normalisation per channel: `y = γ · (x − μ) / √(σ² + ε) + β`.
///
/// Training mode uses the mean and (biased) variance of the batch over N·H·W and updates the running
/// statistics `r ← momentum · r + (1 − momentum) · batch`; inference mode uses the running statistics.
/// Channels are split across threads. Cost: three passes forward, three backward.
public final class BatchNorm: Layer {
    public let inputShape: Shape
    public var outputShape: Shape { inputShape }
    public let epsilon: Float = 1e-3
    public let momentum: Float = 0.9
    public let gamma: Parameter, beta: Parameter
    public let runningMean: Buffer, runningVariance: Buffer
    public var parameters: [Parameter] { [gamma, beta] }
    public var state: [Buffer] { [runningMean, runningVariance] }
    /// Batch mean and 1/√(σ² + ε) of the last training forward, kept for backward.
    private let batchMean: Buffer, batchInvStd: Buffer

    public init(input: Shape) {
        inputShape = input
        let c = input.channels
        gamma = Parameter(name: "gamma", count: c, decays: false)
        beta = Parameter(name: "beta", count: c, decays: false)
        gamma.value.pointer.update(repeating: 1, count: c)
        runningMean = Buffer(count: c)
        runningVariance = Buffer(count: c)
        runningVariance.pointer.update(repeating: 1, count: c)
        batchMean = Buffer(count: c)
        batchInvStd = Buffer(count: c)
    }

    // x: [batch, C, H, W] → y: same shape
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, mode: Mode) {
        let c = inputShape.channels, hw = inputShape.height * inputShape.width, stride = c * hw
        let g = gamma.value.pointer, b = beta.value.pointer
        let rm = runningMean.pointer, rv = runningVariance.pointer, bm = batchMean.pointer, bs = batchInvStd.pointer
        let m = Float(batch * hw), eps = epsilon, mom = momentum
        Parallel.forEachSlice(c) { channels, _ in
            for ch in channels {
                var mean: Float, invStd: Float
                if mode == .training {
                    var s: Double = 0
                    for n in 0 ..< batch {
                        let p = x + n * stride + ch * hw
                        var t: Float = 0
                        for i in 0 ..< hw { t += p[i] }
                        s += Double(t)
                    }
                    mean = Float(s / Double(m))
                    var v: Float = 0
                    for n in 0 ..< batch {
                        let p = x + n * stride + ch * hw
                        for i in 0 ..< hw { let d = p[i] - mean; v += d * d }
                    }
                    let variance = v / m
                    invStd = 1 / (variance + eps).squareRoot()
                    bm[ch] = mean; bs[ch] = invStd
                    rm[ch] = mom * rm[ch] + (1 - mom) * mean
                    rv[ch] = mom * rv[ch] + (1 - mom) * variance
                } else {
                    mean = rm[ch]; invStd = 1 / (rv[ch] + eps).squareRoot()
                }
                let scale = g[ch] * invStd, shift = b[ch] - mean * scale
                for n in 0 ..< batch {
                    let p = x + n * stride + ch * hw, q = y + n * stride + ch * hw
                    for i in 0 ..< hw { q[i] = p[i] * scale + shift }
                }
            }
        }
    }

    /// Training mode: `dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂))` with M = N·H·W. Inference mode treats the
    /// running statistics as constants: `dx = γ·σ⁻¹·dy`. Both add `Σ dy·x̂` to ∂γ and `Σ dy` to ∂β.
    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, batch: Int, mode: Mode) {
        let c = inputShape.channels, hw = inputShape.height * inputShape.width, stride = c * hw
        let g = gamma.value.pointer, dg = gamma.gradient.pointer, db = beta.gradient.pointer
        let rm = runningMean.pointer, rv = runningVariance.pointer, bm = batchMean.pointer, bs = batchInvStd.pointer
        let m = Float(batch * hw), eps = epsilon
        Parallel.forEachSlice(c) { channels, _ in
            for ch in channels {
                let mean = mode == .training ? bm[ch] : rm[ch]
                let invStd = mode == .training ? bs[ch] : 1 / (rv[ch] + eps).squareRoot()
                var sumDy: Float = 0, sumDyXhat: Float = 0
                for n in 0 ..< batch {
                    let p = x + n * stride + ch * hw, d = dy + n * stride + ch * hw
                    for i in 0 ..< hw { sumDy += d[i]; sumDyXhat += d[i] * (p[i] - mean) * invStd }
                }
                dg[ch] += sumDyXhat
                db[ch] += sumDy
                guard let dx else { continue }
                let k = g[ch] * invStd
                for n in 0 ..< batch {
                    let p = x + n * stride + ch * hw, d = dy + n * stride + ch * hw, o = dx + n * stride + ch * hw
                    if mode == .training {
                        let a = sumDy / m, b = sumDyXhat / m
                        for i in 0 ..< hw { o[i] = k * (d[i] - a - (p[i] - mean) * invStd * b) }
                    } else {
                        for i in 0 ..< hw { o[i] = k * d[i] }
                    }
                }
            }
        }
    }
}
