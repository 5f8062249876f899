@testable import NeuralNetwork

/// Numerical gradient checking: the loss is `L = Σ y ⊙ r` for a fixed random `r`, so `dy = r`.
/// Central differences in Float64 accumulation with step `h`; compares against a layer's backward.
struct GradientCheck {
    var rng = SeededGenerator(seed: 7)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] { (0 ..< n).map { _ in rng.normal() * scale } }

    /// Largest relative error `|a − n| / max(1, |a|, |n|)` over the input and every parameter.
    mutating func maxError(_ layer: any Layer, batch: Int, mode: Mode = .training, input: [Float]? = nil,
                           before: (() -> Void)? = nil) -> Float {
        let nIn = batch * layer.inputShape.count, nOut = batch * layer.outputShape.count
        let x = Buffer(input ?? random(nIn)), r = Buffer(random(nOut)), y = Buffer(count: nOut), dx = Buffer(count: nIn)
        func loss() -> Double {
            before?()
            layer.forward(x.pointer, y.pointer, batch: batch, mode: mode)
            var s: Double = 0
            for i in 0 ..< nOut { s += Double(y[i]) * Double(r[i]) }
            return s
        }
        for p in layer.parameters { p.gradient.zero() }
        _ = loss()
        layer.backward(x.pointer, y.pointer, r.pointer, dx.pointer, batch: batch, mode: mode)
        var worst: Float = 0
        let h: Float = 1e-2
        func check(_ values: Buffer, _ analytic: Buffer) {
            for i in 0 ..< values.count {
                let saved = values[i]
                values[i] = saved + h; let up = loss()
                values[i] = saved - h; let down = loss()
                values[i] = saved
                let numeric = Float((up - down) / Double(2 * h))
                worst = max(worst, abs(numeric - analytic[i]) / max(1, abs(numeric), abs(analytic[i])))
            }
        }
        let grads = layer.parameters.map { Buffer($0.gradient.array) }
        check(x, dx)
        for (p, g) in zip(layer.parameters, grads) { check(p.value, g) }
        return worst
    }
}
