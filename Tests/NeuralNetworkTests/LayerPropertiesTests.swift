import Testing
@testable import NeuralNetwork

/// What layers say about themselves (`isElementwise`, `inferenceAffine`) against what their forward does.
@Suite("Layer properties match the layers' forward passes")
struct LayerPropertiesTests {
    /// One layer of every kind on `Shape(3, 4, 6)`, with non-trivial parameters and BatchNorm statistics
    /// (a negative γ among them).
    static func everyKind() -> [any Layer] {
        let shape = Shape(3, 4, 6)
        var rng = SeededGenerator(seed: 31)
        let bn = BatchNorm(input: shape)
        bn.gamma.value.set([1.3, -0.7, 0.4]); bn.beta.value.set([0.2, -0.5, 1.1])
        bn.runningMean.set([0.3, -0.2, 0.9]); bn.runningVariance.set([0.6, 1.7, 0.05])
        let conv = Conv2D(input: shape, filters: 3, kernel: 3, padding: 1)
        let pointwise = Conv2D(input: shape, filters: 3, kernel: 1, padding: 0)
        let dense = Dense(input: shape, units: 5)
        for p in conv.parameters + pointwise.parameters + dense.parameters { for i in 0 ..< p.value.count { p.value[i] = rng.normal() } }
        return [ReLU(input: shape), bn, Dropout(input: shape, rate: 0.3, seed: 4), conv, pointwise,
                MaxPool(input: shape, size: 2), GlobalAveragePool(input: shape), dense]
    }

    /// A batch of two samples, every value at least 0.1 away from 0 (ReLU's kink).
    static func input(_ count: Int) -> Buffer {
        var rng = SeededGenerator(seed: 32)
        return Buffer((0 ..< count).map { _ in let v = rng.normal(); return v + (v >= 0 ? 0.1 : -0.1) })
    }

    static func inference(_ layer: any Layer, _ x: Buffer) -> [Float] {
        let y = Buffer(count: 2 * layer.outputShape.count)
        layer.forward(x.pointer, y.pointer, batch: 2, mode: .inference)
        return y.array
    }

    /// Changing one input element, element by element, changes at most the output element at the same place
    /// exactly when the layer says it is elementwise (the 1×1 convolution mixes channels: it is not).
    @Test func elementwiseMeansEachOutputDependsOnItsOwnInputOnly() {
        for layer in Self.everyKind() {
            let x = Self.input(2 * layer.inputShape.count)
            let y = Self.inference(layer, x)
            var ownOnly = layer.outputShape == layer.inputShape
            for k in 0 ..< x.count where ownOnly {
                let saved = x[k]
                x[k] = saved * 1.5
                let changed = zip(Self.inference(layer, x), y).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
                x[k] = saved
                ownOnly = changed.allSatisfy { $0 == k }
            }
            #expect(layer.isElementwise == ownOnly, "\(type(of: layer))")
        }
    }

    /// A layer that offers an inference affine map computes exactly `x·scale + shift` in inference, bit for
    /// bit; BatchNorm offers one (the network's folding depends on it), the other layers none.
    @Test func inferenceAffineIsTheInferenceForward() throws {
        var offering: [String] = []
        for layer in Self.everyKind() {
            guard let (scale, shift) = layer.inferenceAffine(inputBias: nil) else { continue }
            offering.append("\(type(of: layer))")
            let x = Self.input(2 * layer.inputShape.count), y = Self.inference(layer, x)
            let c = layer.inputShape.channels, hw = layer.inputShape.count / c
            #expect(scale.count == c && shift.count == c)
            for i in 0 ..< x.count { #expect(y[i] == x[i] * scale[i / hw % c] + shift[i / hw % c], "element \(i)") }
        }
        #expect(offering == ["BatchNorm"])
    }

    /// With a bias on its input, the map is that of `x + bias` (to rounding), whatever the sign of γ.
    @Test func inferenceAffineFoldsAnInputBias() throws {
        let bn = try #require(Self.everyKind().compactMap { $0 as? BatchNorm }.first)
        let bias: [Float] = [0.8, -1.9, 0.05]
        let x = Self.input(2 * bn.inputShape.count), biased = Buffer(count: x.count)
        let hw = bn.inputShape.height * bn.inputShape.width
        for i in 0 ..< x.count { biased[i] = x[i] + bias[i / hw % 3] }
        let y = Self.inference(bn, biased)
        let (scale, shift) = try #require(bias.withUnsafeBufferPointer { bn.inferenceAffine(inputBias: $0.baseAddress!) })
        for i in 0 ..< x.count {
            let c = i / hw % 3
            #expect(abs(x[i] * scale[c] + shift[c] - y[i]) <= 1e-5 * max(1, abs(y[i])), "element \(i)")
        }
    }

    /// Streaming inference runs conv → ReLU → 2×2 max pool → BatchNorm as one pass, the BatchNorm applied
    /// with its `inferenceAffine` after the pool: the logits equal those of the layers run one by one in
    /// inference, to the bit (one sample per call on both sides, so the GEMMs have the same shapes).
    @Test func foldedBatchNormAfterPoolingChangesNoBit() throws {
        let spec = try NetworkSpec(parsing: "input 10x10x3, conv 16 3x3 pad 1, relu, maxpool 2, bn, dense 3")
        let net = Network(spec: spec, seed: 6)
        let bn = try #require(net.layers[3] as? BatchNorm)
        var rng = SeededGenerator(seed: 33)
        for c in 0 ..< 16 {  // statistics for which a differently rounded scale would show in the logits
            bn.gamma.value[c] = rng.normal(); bn.beta.value[c] = rng.normal()
            bn.runningMean[c] = rng.normal(); bn.runningVariance[c] = 0.1 + rng.uniform()
        }
        for _ in 0 ..< 5 {
            let x = Buffer((0 ..< spec.input.count).map { _ in rng.normal() })
            let streamed = Array(UnsafeBufferPointer(start: net.forward(x.pointer, batch: 1, mode: .inference), count: 3))
            var input = x
            for layer in net.layers {
                let y = Buffer(count: layer.outputShape.count)
                layer.forward(input.pointer, y.pointer, batch: 1, mode: .inference)
                input = y
            }
            #expect(streamed == input.array)
        }
    }
}
