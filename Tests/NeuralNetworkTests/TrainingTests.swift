import Testing
@testable import NeuralNetwork

@Suite("Networks learn and are reproducible")
struct TrainingTests {
    /// Trains `spec` on a fixed random batch for `steps` Adam steps; returns the losses and final weights.
    func train(_ spec: NetworkSpec, steps: Int, seed: UInt64) -> (losses: [Float], weights: [Float]) {
        let net = Network(spec: spec, seed: seed)
        var rng = SeededGenerator(seed: 99)
        let batch = 8, labels = (0 ..< batch).map { $0 % net.classes }
        let x = Buffer((0 ..< batch * spec.input.count).map { _ in rng.normal() })
        let optimizer = Optimizer(OptimizerSettings(kind: .adam, learningRate: 0.01, weightDecay: 1e-4), parameters: net.parameters)
        let p = Buffer(count: batch * net.classes), d = Buffer(count: batch * net.classes)
        var losses: [Float] = []
        for _ in 0 ..< steps {
            let logits = net.forward(x.pointer, batch: batch, mode: .training)
            losses.append(softmaxCrossEntropy(logits: logits, labels: labels, classes: net.classes, probabilities: p.pointer, dLogits: d.pointer))
            net.zeroGradients()
            net.backward(x.pointer, dLogits: d.pointer, batch: batch, mode: .training)
            optimizer.update(learningRate: 0.01)
        }
        return (losses, net.parameters.flatMap(\.value.array))
    }

    /// The network runs chunks of samples through several layers per thread; the result must equal running
    /// each layer over the whole batch in turn.
    @Test(arguments: [Mode.training, .inference])
    func chunkedScheduleMatchesLayerByLayer(mode: Mode) throws {
        let spec = try NetworkSpec(parsing: "input 12x12x3, conv 6 3x3, relu, maxpool 2, bn, conv 8 3x3 stride 2, bn, relu, dropout 0.2, dense 5, relu, dense 3")
        /// Non-trivial BatchNorm statistics, so inference folding into convolutions is exercised.
        func network() -> Network {
            let net = Network(spec: spec, seed: 3)
            var r = SeededGenerator(seed: 21)
            for case let bn as BatchNorm in net.layers {
                for i in 0 ..< bn.gamma.value.count {
                    bn.gamma.value[i] = 1 + 0.3 * r.normal(); bn.beta.value[i] = r.normal()
                    bn.runningMean[i] = r.normal(); bn.runningVariance[i] = 0.5 + r.uniform()
                }
            }
            return net
        }
        let a = network(), b = network()
        var rng = SeededGenerator(seed: 8)
        let batch = 37
        let x = Buffer((0 ..< batch * spec.input.count).map { _ in rng.normal() })
        let d = Buffer((0 ..< batch * 3).map { _ in rng.normal() })
        let logits = a.forward(x.pointer, batch: batch, mode: mode, keepActivations: true)
        a.zeroGradients()
        a.backward(x.pointer, dLogits: d.pointer, batch: batch, mode: mode)
        // Reference: whole batch per layer.
        var outputs: [Buffer] = [], input = x
        for layer in b.layers {
            let y = Buffer(count: batch * layer.outputShape.count)
            layer.forward(input.pointer, y.pointer, batch: batch, mode: mode)
            outputs.append(y); input = y
        }
        for i in 0 ..< batch * 3 { #expect(abs(logits[i] - outputs.last![i]) < 1e-5) }
        if mode == .inference {  // the streaming pass (no stored activations) gives the same logits
            let c = network()
            let streamed = c.forward(x.pointer, batch: batch, mode: mode)
            for i in 0 ..< batch * 3 { #expect(abs(streamed[i] - outputs.last![i]) < 1e-5) }
        }
        b.zeroGradients()
        var dy = d
        for (i, layer) in b.layers.enumerated().reversed() {
            let dx = Buffer(count: batch * layer.inputShape.count)
            layer.backward(i == 0 ? x.pointer : outputs[i - 1].pointer, outputs[i].pointer, dy.pointer, dx.pointer, batch: batch, mode: mode)
            dy = dx
        }
        for (p, q) in zip(a.parameters, b.parameters) {
            for i in 0 ..< p.gradient.count { #expect(abs(p.gradient[i] - q.gradient[i]) <= 1e-4 * max(1, abs(q.gradient[i]))) }
        }
    }

    /// Streaming inference fuses conv → BN → ReLU → 2×2 max pool → BN into one pass on the phase-plane grid,
    /// and gives the dense head its own chunks; the logits must equal layer-by-layer inference (plain layers,
    /// exact im2col), including odd map sizes where pooling drops the last row and column.
    @Test(arguments: [
        "input 11x11x3, conv 4 3x3, bn, relu, maxpool 2, bn, conv 5 3x3, relu, maxpool 2, gap, dense 2",
        "input 12x12x3, conv 4 3x3, relu, maxpool 2, dense 6, relu, dense 2",
        "input 13x9x2, conv 3 3x3 stride 2, relu, maxpool 2, bn, dense 4, relu, dense 3",
        "input 10x10x3, conv 4 5x5 pad 2, maxpool 2, conv 6 3x3 stride 2 pad 0, bn, relu, dense 3",
        "seed", "cells",
    ])
    func streamingInferenceMatchesLayerByLayer(text: String) throws {
        let spec = try (NetworkSpec.preset(text) ?? NetworkSpec(parsing: text)).resolved(classes: 3)
        func network() -> Network {
            let net = Network(spec: spec, seed: 4)
            var r = SeededGenerator(seed: 22)
            for case let bn as BatchNorm in net.layers {
                for i in 0 ..< bn.gamma.value.count {
                    // Negative scales too: the fused pool then takes the window's minimum before the affine map.
                    bn.gamma.value[i] = (i % 3 == 1 ? -1 : 1) * (0.5 + r.uniform()); bn.beta.value[i] = r.normal()
                    bn.runningMean[i] = 0.2 * r.normal(); bn.runningVariance[i] = 0.5 + r.uniform()
                }
            }
            for case let conv as Conv2D in net.layers { for i in 0 ..< conv.bias.value.count { conv.bias.value[i] = 0.1 * r.normal() } }
            return net
        }
        let a = network(), b = network()
        var rng = SeededGenerator(seed: 9)
        let batch = 70
        let x = Buffer((0 ..< batch * spec.input.count).map { _ in rng.uniform() })
        let streamed = a.forward(x.pointer, batch: batch, mode: .inference)
        var input = x
        for layer in b.layers {
            let y = Buffer(count: batch * layer.outputShape.count)
            for n in 0 ..< batch {  // one sample at a time, convolutions through the exact (training) im2col path
                layer.forward(input.pointer + n * layer.inputShape.count, y.pointer + n * layer.outputShape.count, batch: 1,
                              mode: layer is Conv2D ? .training : .inference)
            }
            input = y
        }
        var worst: Float = 0
        for i in 0 ..< batch * a.classes { worst = max(worst, abs(streamed[i] - input[i]) / max(1, abs(input[i]))) }
        #expect(worst < 1e-4, "\(text): \(worst)")
    }

    @Test func tinyNetworkOverfitsTinyBatch() throws {
        let spec = try NetworkSpec(parsing: "input 8x8x3, conv 8 3x3, bn, relu, maxpool 2, conv 8 3x3 stride 2, relu, gap, dropout 0.1, dense 16, relu, dense 3")
        let (losses, _) = train(spec, steps: 150, seed: 1)
        #expect(losses.first! > 0.8)
        #expect(losses.last! < 0.05)
    }

    @Test func sgdAlsoLearns() throws {
        let net = Network(spec: try NetworkSpec(parsing: "input 4x4x1, conv 4 3x3, relu, gap, dense 2"), seed: 5)
        let x = Buffer((0 ..< 32).map { Float($0 % 16) / 8 - 1 + ($0 >= 16 ? 0.5 : 0) })
        let opt = Optimizer(OptimizerSettings(kind: .sgd, learningRate: 0.1, weightDecay: 1e-4, momentum: 0.9), parameters: net.parameters)
        let p = Buffer(count: 4), d = Buffer(count: 4)
        var first: Float = 0, last: Float = 0
        for step in 0 ..< 200 {
            let logits = net.forward(x.pointer, batch: 2, mode: .training)
            last = softmaxCrossEntropy(logits: logits, labels: [0, 1], classes: 2, probabilities: p.pointer, dLogits: d.pointer)
            if step == 0 { first = last }
            net.zeroGradients()
            net.backward(x.pointer, dLogits: d.pointer, batch: 2, mode: .training)
            opt.update(learningRate: 0.1)
        }
        #expect(last < first / 4)
    }

    @Test func deterministicGivenSeed() throws {
        let spec = try NetworkSpec(parsing: "input 8x8x3, conv 4 3x3, bn, relu, dropout 0.3, gap, dense 2")
        let a = train(spec, steps: 10, seed: 42), b = train(spec, steps: 10, seed: 42), c = train(spec, steps: 10, seed: 43)
        #expect(a.losses == b.losses && a.weights == b.weights)
        #expect(a.weights != c.weights)
    }
}
