/// A sequential network built from a `NetworkSpec`, with the activation buffers of its batch.
///
/// `forward` keeps every layer's output so that `backward` (and Grad-CAM) can use it; buffers grow to the
/// largest batch seen and are reused. Not thread-safe: one forward/backward at a time (each pass is itself
/// parallel across `Parallel.threads`).
public final class Network {
    public let spec: NetworkSpec
    public let layers: [any Layer]
    private var activations: [Buffer] = []
    private var gradients: (Buffer, Buffer) = (Buffer(count: 0), Buffer(count: 0))
    private var capacity = 0

    /// Builds the layers of `spec` (which must have no `dense classes` left) with He-normal weights
    /// (`N(0, 2 / fan_in)`), zero biases, γ = 1, β = 0, all drawn from `seed`.
    public init(spec: NetworkSpec, seed: UInt64) {
        self.spec = spec
        var rng = SeededGenerator(seed: seed)
        var shape = spec.input
        var layers: [any Layer] = []
        for (index, item) in spec.items.enumerated() {
            let layer: any Layer
            switch item {
            case let .conv(f, k, s, p):
                let conv = Conv2D(input: shape, filters: f, kernel: k, stride: s, padding: p)
                Self.heInitialise(conv.weight, fanIn: shape.channels * k * k, &rng)
                layer = conv
            case let .maxPool(k, s): layer = MaxPool(input: shape, size: k, stride: s)
            case .batchNorm: layer = BatchNorm(input: shape)
            case .relu: layer = ReLU(input: shape)
            case .globalAveragePool: layer = GlobalAveragePool(input: shape)
            case let .dropout(r): layer = Dropout(input: shape, rate: r, seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            case let .dense(u):
                precondition(u != nil, "resolve 'dense classes' before building a network")
                let dense = Dense(input: shape, units: u!)
                Self.heInitialise(dense.weight, fanIn: shape.count, &rng)
                layer = dense
            }
            layers.append(layer)
            shape = layer.outputShape
        }
        self.layers = layers
    }

    private static func heInitialise(_ p: Parameter, fanIn: Int, _ rng: inout SeededGenerator) {
        let std = (2 / Float(fanIn)).squareRoot()
        for i in 0 ..< p.value.count { p.value[i] = rng.normal() * std }
    }

    public var inputShape: Shape { spec.input }
    /// Number of outputs (classes) of the last layer.
    public var classes: Int { layers.last!.outputShape.count }
    /// Trainable tensors of all layers, in layer order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// Non-trainable saved tensors (BatchNorm running statistics), in layer order.
    public var state: [Buffer] { layers.flatMap(\.state) }
    /// Trainable plus saved values (the figure Keras reports as "parameters").
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } + state.reduce(0) { $0 + $1.count } }

    private func reserve(_ batch: Int) {
        guard batch > capacity else { return }
        capacity = batch
        activations = layers.map { Buffer(count: batch * $0.outputShape.count) }
        let largest = layers.map { max($0.inputShape.count, $0.outputShape.count) }.max() ?? 0
        gradients = (Buffer(count: batch * largest), Buffer(count: batch * largest))
    }

    /// Runs every layer on `input[batch, C, H, W]` and returns the logits `[batch, classes]` (valid until
    /// the next call). Cost: `spec.flopsPerSample · batch` flops plus memory passes.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch: Int, mode: Mode) -> UnsafeMutablePointer<Float> {
        reserve(batch)
        var x = input
        for (layer, y) in zip(layers, activations) {
            layer.forward(x, y.pointer, batch: batch, mode: mode)
            x = UnsafePointer(y.pointer)
        }
        return activations.last!.pointer
    }

    /// The output `[batch, layers[index].outputShape]` of layer `index` from the last forward.
    public func output(ofLayer index: Int) -> UnsafePointer<Float> { UnsafePointer(activations[index].pointer) }

    /// Back-propagates `dLogits[batch, classes]` through the layers of the last forward (same `input`,
    /// `batch` and `mode`), adding into every parameter's gradient, down to layer `lowest`. Returns
    /// ∂loss/∂(input of layer `lowest`) when `lowest > 0` (valid until the next call), else nil.
    @discardableResult
    public func backward(_ input: UnsafePointer<Float>, dLogits: UnsafePointer<Float>, batch: Int, mode: Mode,
                         through lowest: Int = 0) -> UnsafePointer<Float>? {
        var dy = dLogits
        var target = gradients.0
        for index in stride(from: layers.count - 1, through: lowest, by: -1) {
            let x = index == 0 ? input : output(ofLayer: index - 1)
            let dx: UnsafeMutablePointer<Float>? = index == 0 ? nil : target.pointer
            layers[index].backward(x, output(ofLayer: index), dy, dx, batch: batch, mode: mode)
            if let dx { dy = UnsafePointer(dx) }
            target = target === gradients.0 ? gradients.1 : gradients.0
        }
        return lowest > 0 ? dy : nil
    }

    /// Sets every parameter gradient to zero (call before each backward).
    public func zeroGradients() { for p in parameters { p.gradient.zero() } }
}
