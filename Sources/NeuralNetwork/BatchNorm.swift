/// Batch normalisation per channel: `y = γ · (x − μ) / √(σ² + ε) + β`.
///
/// Training mode uses the mean and (biased) variance of the batch over N·H·W — so it couples the batch,
/// and splits channels across threads — and updates the running statistics
/// `r ← momentum · r + (1 − momentum) · batch`; inference mode uses the running statistics and works per
/// sample. Cost: three passes forward in training (one in inference), two backward.
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
    private let dGamma: GradientAccumulators, dBeta: GradientAccumulators

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
        dGamma = GradientAccumulators(count: c)
        dBeta = GradientAccumulators(count: c)
    }

    public func couplesBatch(_ mode: Mode) -> Bool { mode == .training }
    public var isElementwise: Bool { true }

    /// Channel `ch`'s factors of `y = x·scale + shift` for a mean and `1/√(σ² + ε)`: `scale = γ·invStd`,
    /// `shift = β − mean·scale`.
    @inline(__always)
    private func factors(_ ch: Int, mean: Float, invStd: Float) -> (scale: Float, shift: Float) {
        let scale = gamma.value.pointer[ch] * invStd
        return (scale, beta.value.pointer[ch] - mean * scale)
    }

    /// Channel `ch`'s factors with the running statistics: those of the inference forward.
    @inline(__always)
    private func inferenceFactors(_ ch: Int) -> (scale: Float, shift: Float) {
        factors(ch, mean: runningMean.pointer[ch], invStd: 1 / (runningVariance.pointer[ch] + epsilon).squareRoot())
    }

    /// Without `inputBias`: `inferenceFactors`, exactly what `forward` applies in inference. With it, the map
    /// of `x + inputBias`: `scale = γ / √(σ² + ε)`, `shift = (inputBias − μ)·scale + β`. That `scale` is
    /// rounded once where `forward`'s `γ·(1/√(σ² + ε))` is rounded twice, so a BatchNorm folded into a
    /// convolution can differ from the separate layers in the last bit.
    public func inferenceAffine(inputBias: UnsafePointer<Float>?) -> (scale: Buffer, shift: Buffer)? {
        let c = inputShape.channels, scale = Buffer(count: c), shift = Buffer(count: c)
        for ch in 0 ..< c {
            if let inputBias {
                let a = gamma.value.pointer[ch] / (runningVariance.pointer[ch] + epsilon).squareRoot()
                scale[ch] = a
                shift[ch] = (inputBias[ch] - runningMean.pointer[ch]) * a + beta.value.pointer[ch]
            } else {
                (scale[ch], shift[ch]) = inferenceFactors(ch)
            }
        }
        return (scale, shift)
    }

    // x: [batch, C, H, W] → y: same shape
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let c = inputShape.channels, hw = inputShape.height * inputShape.width, stride = c * hw
        let rm = runningMean.pointer, rv = runningVariance.pointer, bm = batchMean.pointer, bs = batchInvStd.pointer
        let eps = epsilon, mom = momentum
        func normalise(_ ch: Int, _ factors: (scale: Float, shift: Float)) {
            let (scale, shift) = factors
            for n in samples {
                let p = x + n * stride + ch * hw, q = y + n * stride + ch * hw
                for i in 0 ..< hw { q[i] = p[i] * scale + shift }
            }
        }
        guard mode == .training else {
            for ch in 0 ..< c { normalise(ch, inferenceFactors(ch)) }
            return
        }
        let m = Double(samples.count * hw)
        Parallel.forEachSlice(c) { channels, _ in
            for ch in channels {
                var s: Double = 0
                for n in samples { s += Double(sum(x + n * stride + ch * hw, hw)) }
                let mean = Float(s / m)
                var v: Double = 0
                for n in samples { v += Double(sumOfSquaredDeviations(x + n * stride + ch * hw, hw, from: mean)) }
                let variance = Float(v / m), invStd = 1 / (variance + eps).squareRoot()
                bm[ch] = mean; bs[ch] = invStd
                rm[ch] = mom * rm[ch] + (1 - mom) * mean
                rv[ch] = mom * rv[ch] + (1 - mom) * variance
                normalise(ch, factors(ch, mean: mean, invStd: invStd))
            }
        }
    }

    public func beginBackward(threads: Int) { dGamma.begin(threads: threads); dBeta.begin(threads: threads) }
    public func endBackward() { dGamma.end(into: gamma.gradient); dBeta.end(into: beta.gradient) }

    /// Training mode: `dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂))` with M = N·H·W. Inference mode treats the
    /// running statistics as constants: `dx = γ·σ⁻¹·dy`. Both add `Σ dy·x̂` to ∂γ and `Σ dy` to ∂β.
    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        let c = inputShape.channels, hw = inputShape.height * inputShape.width, stride = c * hw
        let g = gamma.value.pointer
        let rm = runningMean.pointer, rv = runningVariance.pointer, bm = batchMean.pointer, bs = batchInvStd.pointer
        let m = Float(samples.count * hw), eps = epsilon
        let dg = dGamma(thread), db = dBeta(thread)
        func channel(_ ch: Int) {
            let training = mode == .training
            let mean = training ? bm[ch] : rm[ch]
            let invStd = training ? bs[ch] : 1 / (rv[ch] + eps).squareRoot()
            var sumDy: Float = 0, sumDyXc: Float = 0
            for n in samples {
                let (a, b) = sumAndDot(dy + n * stride + ch * hw, x + n * stride + ch * hw, hw, minus: mean)
                sumDy += a; sumDyXc += b
            }
            let sumDyXhat = sumDyXc * invStd
            dg[ch] += sumDyXhat
            db[ch] += sumDy
            guard let dx else { return }
            let k = g[ch] * invStd
            let a = training ? sumDy / m : 0, b = training ? sumDyXhat / m * invStd : 0
            for n in samples {
                let p = x + n * stride + ch * hw, d = dy + n * stride + ch * hw, o = dx + n * stride + ch * hw
                for i in 0 ..< hw { o[i] = k * (d[i] - a - (p[i] - mean) * b) }
            }
        }
        if mode == .training {
            // Channels are split across threads; each channel's sums go to accumulator 0 only once.
            Parallel.forEachSlice(c) { channels, _ in for ch in channels { channel(ch) } }
        } else {
            for ch in 0 ..< c { channel(ch) }
        }
    }
}
