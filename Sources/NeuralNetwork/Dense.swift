/// Fully connected layer on the flattened sample: weights `[out, in]`, bias `[out]`,
/// `y[n, o] = b[o] + Σ_i w[o, i] · x[n, i]`. One `cblas_sgemm` per pass. Cost: `2·in·out` flops per sample
/// forward, twice that backward.
public final class Dense: Layer {
    public let inputShape: Shape
    public let outputShape: Shape
    public let weight: Parameter
    public let bias: Parameter
    public var parameters: [Parameter] { [weight, bias] }

    public init(input: Shape, units: Int) {
        precondition(units > 0)
        inputShape = input
        outputShape = Shape(units, 1, 1)
        weight = Parameter(name: "weight", count: units * input.count, decays: true)
        bias = Parameter(name: "bias", count: units, decays: false)
    }

    // x: [batch, in] → y: [batch, out]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, mode: Mode) {
        let nIn = inputShape.count, nOut = outputShape.count, b = bias.value.pointer, w = weight.value.pointer
        Parallel.forEachSlice(batch) { range, _ in
            let rows = range.count, yr = y + range.lowerBound * nOut
            for n in 0 ..< rows { (yr + n * nOut).update(from: b, count: nOut) }
            gemm(false, true, rows, nOut, nIn, 1, x + range.lowerBound * nIn, nIn, w, nIn, 1, yr, nOut)
        }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, batch: Int, mode: Mode) {
        let nIn = inputShape.count, nOut = outputShape.count
        gemm(true, false, nOut, nIn, batch, 1, dy, nOut, x, nIn, 1, weight.gradient.pointer, nIn)
        let gb = bias.gradient.pointer
        for n in 0 ..< batch { for o in 0 ..< nOut { gb[o] += dy[n * nOut + o] } }
        if let dx { gemm(false, false, batch, nIn, nOut, 1, dy, nOut, weight.value.pointer, nIn, 0, dx, nIn) }
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
