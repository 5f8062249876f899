/// Fully connected layer on the flattened sample: weights `[out, in]`, bias `[out]`,
/// `y[n, o] = b[o] + Σ_i w[o, i] · x[n, i]`. One `cblas_sgemm` per call. Cost: `2·in·out` flops per sample
/// forward, twice that backward.
public final class Dense: Layer {
    public let inputShape: Shape
    public let outputShape: Shape
    public let weight: Parameter
    public let bias: Parameter
    public var parameters: [Parameter] { [weight, bias] }
    private let dw: GradientAccumulators, db: GradientAccumulators

    public init(input: Shape, units: Int) {
        precondition(units > 0)
        inputShape = input
        outputShape = Shape(units, 1, 1)
        weight = Parameter(name: "weight", count: units * input.count, decays: true)
        bias = Parameter(name: "bias", count: units, decays: false)
        dw = GradientAccumulators(count: weight.value.count)
        db = GradientAccumulators(count: units)
    }

    // x: [batch, in] → y: [batch, out]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let nIn = inputShape.count, nOut = outputShape.count, b = bias.value.pointer
        let yr = y + samples.lowerBound * nOut
        for n in 0 ..< samples.count { (yr + n * nOut).update(from: b, count: nOut) }
        gemm(false, true, samples.count, nOut, nIn, 1, x + samples.lowerBound * nIn, nIn, weight.value.pointer, nIn, 1, yr, nOut)
    }

    public func beginBackward(threads: Int) { dw.begin(threads: threads); db.begin(threads: threads) }
    public func endBackward() { dw.end(into: weight.gradient); db.end(into: bias.gradient) }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        let nIn = inputShape.count, nOut = outputShape.count, rows = samples.count
        let d = dy + samples.lowerBound * nOut
        gemm(true, false, nOut, nIn, rows, 1, d, nOut, x + samples.lowerBound * nIn, nIn, 1, dw(thread), nIn)
        let gb = db(thread)
        for n in 0 ..< rows { for o in 0 ..< nOut { gb[o] += d[n * nOut + o] } }
        if let dx { gemm(false, false, rows, nIn, nOut, 1, d, nOut, weight.value.pointer, nIn, 0, dx + samples.lowerBound * nIn, nIn) }
    }

    /// Plain loops with the same contract as `forward`: the tests' reference.
    public func referenceForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int) {
        let nIn = inputShape.count, nOut = outputShape.count
        for n in 0 ..< batch {
            for o in 0 ..< nOut {
                var s = bias.value[o]
                for i in 0 ..< nIn { s += weight.value[o * nIn + i] * x[n * nIn + i] }
                y[n * nOut + o] = s
            }
        }
    }
}
