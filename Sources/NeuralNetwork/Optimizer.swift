import Foundation

/// Settings of a gradient-descent optimizer, saved with the model's training record.
public struct OptimizerSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case adam, sgd }
    public var kind: Kind
    /// Peak learning rate (the schedule scales it).
    public var learningRate: Float
    /// Adam: decoupled weight decay (AdamW); SGD: L2 penalty added to the gradient. Only on kernels.
    public var weightDecay: Float
    /// Adam β₁ or SGD momentum.
    public var momentum: Float
    /// Adam β₂.
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7

    public init(kind: Kind, learningRate: Float, weightDecay: Float = 0, momentum: Float? = nil) {
        self.kind = kind
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum ?? 0.9
    }
}

/// Adam (with decoupled weight decay) or SGD with momentum over a network's parameters.
///
/// Adam: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `w ← w − lr·(m̂ / (√v̂ + ε) + λw)`.
/// SGD: `u ← μu + g + λw`, `w ← w − lr·u`. Cost: a few passes over the parameters per step.
public final class Optimizer {
    public let settings: OptimizerSettings
    public let parameters: [Parameter]
    /// First (and for Adam second) moments, one per parameter.
    public let first: [Buffer], second: [Buffer]
    /// Number of updates applied so far.
    public var step = 0

    public init(_ settings: OptimizerSettings, parameters: [Parameter]) {
        self.settings = settings
        self.parameters = parameters
        first = parameters.map { Buffer(count: $0.value.count) }
        second = settings.kind == .adam ? parameters.map { Buffer(count: $0.value.count) } : []
    }

    /// Applies one update with learning rate `lr` using the parameters' current gradients.
    public func update(learningRate lr: Float) {
        step += 1
        let s = settings
        for (index, p) in parameters.enumerated() {
            let w = p.value.pointer, g = p.gradient.pointer, m = first[index].pointer, n = p.value.count
            let decay = p.decays ? s.weightDecay : 0
            // Elementwise, so large tensors are split across the worker threads (same result per element).
            switch s.kind {
            case .adam:
                let v = second[index].pointer
                let c1 = 1 / (1 - powf(s.momentum, Float(step))), c2 = 1 / (1 - powf(s.beta2, Float(step)))
                Parallel.forEachSlice(n, minimumPerThread: 16_384) { range, _ in
                    for i in range {
                        m[i] = s.momentum * m[i] + (1 - s.momentum) * g[i]
                        v[i] = s.beta2 * v[i] + (1 - s.beta2) * g[i] * g[i]
                        w[i] -= lr * ((m[i] * c1) / ((v[i] * c2).squareRoot() + s.epsilon) + decay * w[i])
                    }
                }
            case .sgd:
                Parallel.forEachSlice(n, minimumPerThread: 16_384) { range, _ in
                    for i in range {
                        m[i] = s.momentum * m[i] + g[i] + decay * w[i]
                        w[i] -= lr * m[i]
                    }
                }
            }
        }
    }
}
