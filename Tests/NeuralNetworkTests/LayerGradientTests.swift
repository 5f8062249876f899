import Testing
@testable import NeuralNetwork

@Suite("Layer backward passes match numerical gradients")
struct LayerGradientTests {
    @Test(arguments: [(1, 1), (2, 1), (1, 0), (2, 0), (1, 2)])
    func convolution(stride: Int, padding: Int) {
        var check = GradientCheck()
        let conv = Conv2D(input: Shape(3, 7, 6), filters: 4, kernel: 3, stride: stride, padding: padding)
        conv.weight.value.set(check.random(conv.weight.value.count, scale: 0.3))
        conv.bias.value.set(check.random(4))
        #expect(check.maxError(conv, batch: 3) < 2e-3)
    }

    @Test func convolutionGroupsSmallMaps() {
        // 2×2 outputs: several samples share one GEMM (the grouped path).
        var check = GradientCheck()
        let conv = Conv2D(input: Shape(2, 4, 4), filters: 3, kernel: 3, stride: 2, padding: 1)
        conv.weight.value.set(check.random(conv.weight.value.count, scale: 0.3))
        #expect(check.maxError(conv, batch: 5) < 2e-3)
    }

    @Test func maxPool() {
        var check = GradientCheck()
        #expect(check.maxError(MaxPool(input: Shape(2, 6, 7), size: 2), batch: 2) < 2e-3)
        #expect(check.maxError(MaxPool(input: Shape(2, 7, 7), size: 3, stride: 2), batch: 2) < 2e-3)
        // 8-window SIMD path; distinct values 0.1 apart so that no window has a near-tie within the step.
        let count = 2 * 2 * 4 * 19
        var values: [Float] = (0 ..< count).map { (i: Int) -> Float in Float(i) / 10 - 15 }
        values.shuffle(using: &check.rng)
        #expect(check.maxError(MaxPool(input: Shape(2, 4, 19), size: 2), batch: 2, input: values) < 2e-3)
    }

    @Test func maxPoolRectifiedEqualsReLUThenPoolBackward() {
        var rng = SeededGenerator(seed: 12)
        let pool = MaxPool(input: Shape(3, 6, 20), size: 2), relu = ReLU(input: pool.inputShape)
        let n = 2 * pool.inputShape.count
        // ReLU outputs with many exact zeros and ties.
        let y = Buffer((0 ..< n).map { _ in max(0, (rng.normal() * 2).rounded()) })
        let dy = Buffer((0 ..< 2 * pool.outputShape.count).map { _ in rng.normal() })
        let mid = Buffer(count: n), expected = Buffer(count: n), fused = Buffer(count: n)
        pool.backward(y.pointer, Buffer(count: dy.count).pointer, dy.pointer, mid.pointer, batch: 2, mode: .training)
        relu.backward(y.pointer, y.pointer, mid.pointer, expected.pointer, batch: 2, mode: .training)
        pool.backward(y.pointer, dy.pointer, fused.pointer, samples: 0 ..< 2, rectified: true)
        #expect(fused.array == expected.array)
    }

    @Test func globalAveragePool() {
        var check = GradientCheck()
        #expect(check.maxError(GlobalAveragePool(input: Shape(3, 4, 5)), batch: 2) < 2e-3)
    }

    @Test func batchNormTrainingAndInference() {
        var check = GradientCheck()
        let bn = BatchNorm(input: Shape(3, 4, 4))
        bn.gamma.value.set(check.random(3))
        bn.beta.value.set(check.random(3))
        #expect(check.maxError(bn, batch: 4, mode: .training) < 5e-3)
        bn.runningMean.set(check.random(3))
        bn.runningVariance.set([0.5, 1.5, 2])
        #expect(check.maxError(bn, batch: 4, mode: .inference) < 2e-3)
    }

    @Test func relu() {
        var check = GradientCheck()
        // Keep inputs away from the kink at 0.
        let x = check.random(2 * 3 * 4 * 4).map { $0 + ($0 >= 0 ? 0.1 : -0.1) }
        #expect(check.maxError(ReLU(input: Shape(3, 4, 4)), batch: 2, input: x) < 2e-3)
    }

    @Test func dropoutWithFixedMask() {
        var check = GradientCheck()
        let layer = Dropout(input: Shape(2, 3, 3), rate: 0.4, seed: 11)
        #expect(check.maxError(layer, batch: 3, before: { layer.generator = SeededGenerator(seed: 11) }) < 2e-3)
    }

    @Test func dense() {
        var check = GradientCheck()
        let dense = Dense(input: Shape(3, 2, 2), units: 5)
        dense.weight.value.set(check.random(dense.weight.value.count, scale: 0.3))
        dense.bias.value.set(check.random(5))
        #expect(check.maxError(dense, batch: 3) < 2e-3)
    }

    @Test func softmaxCrossEntropyGradient() {
        var rng = SeededGenerator(seed: 3)
        let k = 4, labels = [0, 3, 2]
        let logits = Buffer((0 ..< labels.count * k).map { _ in rng.normal() * 2 })
        let p = Buffer(count: logits.count), d = Buffer(count: logits.count)
        _ = softmaxCrossEntropy(logits: logits.pointer, labels: labels, classes: k, probabilities: p.pointer,
                                dLogits: d.pointer, labelSmoothing: 0.1)
        let h: Float = 1e-2
        for i in 0 ..< logits.count {
            let saved = logits[i]
            logits[i] = saved + h
            let up = softmaxCrossEntropy(logits: logits.pointer, labels: labels, classes: k, probabilities: p.pointer, dLogits: nil, labelSmoothing: 0.1)
            logits[i] = saved - h
            let down = softmaxCrossEntropy(logits: logits.pointer, labels: labels, classes: k, probabilities: p.pointer, dLogits: nil, labelSmoothing: 0.1)
            logits[i] = saved
            #expect(abs((up - down) / (2 * h) - d[i]) < 1e-3)
        }
    }
}
