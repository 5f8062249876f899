/// A sequential network built from a `NetworkSpec`, with the activation buffers of its batch.
///
/// A training (or `keepActivations`) `forward` keeps the layer outputs that `backward` and Grad-CAM use;
/// an inference forward streams chunks through small per-thread buffers. Buffers grow to the largest batch
/// seen and are reused. Not thread-safe: one forward/backward at a time (each pass is itself
/// parallel across `Parallel.threads`).
public final class Network {
    public let spec: NetworkSpec
    public let layers: [any Layer]
    private var activations: [Buffer] = []
    /// ∂loss/∂(output of layer i), allocated on the first backward (inference never needs them).
    private var gradients: [Buffer] = []
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
        activations = layers.map { Buffer(unfilledCount: batch * $0.outputShape.count) }
        gradients = []
    }

    /// Consecutive layers the network runs together on small chunks of samples (each thread takes a
    /// slice of the batch and pushes chunk after chunk through the whole segment while it is in cache),
    /// or a single batch-coupled layer.
    private struct Segment { var layers: Range<Int>; var coupled: Bool; var chunk: Int }

    /// Floats of activation per chunk that should stay in a core's L2 cache.
    static let chunkFloats = 96 * 1024

    private func segments(_ mode: Mode) -> [Segment] {
        var result: [Segment] = []
        var start = 0
        func close(_ end: Int) {
            guard end > start else { return }
            let widest = layers[start ..< end].map { max($0.inputShape.count, $0.outputShape.count) }.max()!
            result.append(Segment(layers: start ..< end, coupled: false, chunk: max(1, min(32, Self.chunkFloats / widest))))
        }
        for (i, layer) in layers.enumerated() {
            if layer.couplesBatch(mode) {
                close(i)
                result.append(Segment(layers: i ..< i + 1, coupled: true, chunk: 0))
                start = i + 1
            } else if mode == .inference, layer is Dense, i > start, !(layers[i - 1] is Dense) {
                // The dense head gets a segment of its own: its chunks are then as large as its narrow
                // inputs allow, instead of the one or two samples of a wide convolution segment, and its
                // weights are read once per chunk. (Inference only: in training the chunk size is part of
                // the order in which gradients are summed.)
                close(i)
                start = i
            }
        }
        close(layers.count)
        return result
    }

    /// Input of layer `index` for the batch at `input`.
    private func input(ofLayer index: Int, _ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        index == 0 ? input : output(ofLayer: index - 1)
    }

    /// Per-thread pairs of chunk buffers for streaming passes and for gradients inside a segment.
    private var streams: [(Buffer, Buffer)] = [], backStreams: [(Buffer, Buffer)] = []

    /// Runs every layer on `input[batch, C, H, W]` and returns the logits `[batch, classes]` (valid until
    /// the next call). Cost: `spec.flopsPerSample · batch` flops plus memory passes, on all threads.
    ///
    /// With `keepActivations` (always in training; needed by `backward` and `output(ofLayer:)`) every
    /// layer's output is stored for the batch. Without, a segment's intermediate outputs only pass through
    /// two small per-thread chunk buffers that stay in cache, and only segment outputs are stored.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch: Int, mode: Mode, keepActivations: Bool? = nil) -> UnsafeMutablePointer<Float> {
        reserve(batch)
        let keep = keepActivations ?? (mode == .training)
        if mode == .training { for case let conv as Conv2D in layers { conv.reserveColumns(batch) } }
        if !keep {
            let widest = layers.map { $0.outputShape.count }.max()!
            let chunkCapacity = Self.chunkFloats + widest  // ≥ chunk × any layer's output, for every segment
            if streams.count < Parallel.threads || streams[0].0.count < chunkCapacity {
                streams = (0 ..< Parallel.threads).map { _ in (Buffer(unfilledCount: chunkCapacity), Buffer(unfilledCount: chunkCapacity)) }
            }
        }
        for segment in segments(mode) {
            if segment.coupled {
                let i = segment.layers.lowerBound
                layers[i].forward(self.input(ofLayer: i, input), activations[i].pointer, samples: 0 ..< batch, thread: 0, mode: mode)
                continue
            }
            let steps = steps(segment.layers, fold: mode == .inference && !keep)
            let source = self.input(ofLayer: segment.layers.lowerBound, input)
            // Training (and kept activations) use fixed slices per thread: the order in which per-thread
            // gradients are summed must not depend on scheduling. Streaming inference hands out chunks as
            // workers become free.
            let dynamic = !keep && mode == .inference
            let schedule: ((Range<Int>, Int) -> Void) -> Void = { body in
                if dynamic { Parallel.forEachChunk(batch, chunk: segment.chunk, body) } else { Parallel.forEachSlice(batch, body) }
            }
            schedule { range, thread in
                let pair = keep ? [] : [streams[thread].0.pointer, streams[thread].1.pointer]
                for start in stride(from: range.lowerBound, to: range.upperBound, by: segment.chunk) {
                    let chunk = start ..< min(start + segment.chunk, range.upperBound)
                    var x = source
                    for (n, step) in steps.enumerated() {
                        // A step's output goes to its last layer's activation buffer, or when streaming
                        // (except the segment's output) to a chunk buffer addressed as if it held the batch.
                        let last = step.layers.upperBound - 1
                        let y = keep || n == steps.count - 1 ? activations[last].pointer : pair[n % 2] - start * layers[last].outputShape.count
                        if let e = step.epilogue {
                            (layers[step.layers.lowerBound] as! Conv2D).forward(x, y, samples: chunk, thread: thread,
                                epilogue: Conv2D.Epilogue(scale: e.scale.map { UnsafePointer($0.pointer) }, shift: UnsafePointer(e.shift.pointer), relu: e.relu,
                                                          pool: step.pool, postScale: step.post.map { UnsafePointer($0.scale.pointer) },
                                                          postShift: step.post.map { UnsafePointer($0.shift.pointer) }),
                                mode: mode)
                        } else {
                            layers[last].forward(x, y, samples: chunk, thread: thread, mode: mode)
                        }
                        x = UnsafePointer(y)
                    }
                }
            }
        }
        return activations.last!.pointer
    }

    /// Layers run as one in a forward pass: a convolution absorbing a following ReLU and, when streaming
    /// inference, a layer between them that is a per-channel affine map in inference (BatchNorm; its
    /// `inferenceAffine` folded with the convolution's bias into one scale and shift). Only the step's
    /// last layer gets an output: backward needs neither a convolution's nor a ReLU's input.
    private struct Step {
        var layers: Range<Int>
        var epilogue: (scale: Buffer?, shift: Buffer, relu: Bool)?
        /// Streaming inference only: a following 2×2 max pool, and an affine layer after it as
        /// `y·scale + shift` (its `inferenceAffine`, the same factors as its own forward).
        var pool = false
        var post: (scale: Buffer, shift: Buffer)?
    }

    /// The steps of `segment`; `fold` (streaming inference) folds affine layers and 2×2 max pools into the
    /// convolutions' output passes.
    private func steps(_ segment: Range<Int>, fold: Bool) -> [Step] {
        var result: [Step] = []
        var i = segment.lowerBound
        while i < segment.upperBound {
            guard let conv = layers[i] as? Conv2D else { result.append(Step(layers: i ..< i + 1)); i += 1; continue }
            var j = i + 1
            // A following affine layer (BatchNorm in inference), composed with the bias into one scale and shift.
            let affine = fold && j < segment.upperBound ? layers[j].inferenceAffine(inputBias: conv.bias.value.pointer) : nil
            if affine != nil { j += 1 }
            let relu = j < segment.upperBound && layers[j] is ReLU
            if relu { j += 1 }
            var step = Step(layers: i ..< j, epilogue: (affine?.scale, affine?.shift ?? conv.bias.value, relu))
            if fold, j < segment.upperBound, let pool = layers[j] as? MaxPool, pool.size == 2, pool.stride == 2 {
                step.pool = true
                j += 1
                if j < segment.upperBound, let affine = layers[j].inferenceAffine(inputBias: nil) {
                    step.post = affine
                    j += 1
                }
                step.layers = i ..< j
            }
            result.append(step)
            i = j
        }
        return result
    }

    /// The output `[batch, layers[index].outputShape]` of layer `index` from the last forward that kept its
    /// activations (a convolution absorbed by a following ReLU has none: use the ReLU's).
    public func output(ofLayer index: Int) -> UnsafePointer<Float> { UnsafePointer(activations[index].pointer) }

    /// Back-propagates `dLogits[batch, classes]` through the layers of the last forward (same `input`,
    /// `batch` and `mode`), adding into every parameter's gradient, down to layer `lowest`. Returns
    /// ∂loss/∂(input of layer `lowest`) when `lowest > 0` (valid until the next call), else nil.
    @discardableResult
    public func backward(_ input: UnsafePointer<Float>, dLogits: UnsafePointer<Float>, batch: Int, mode: Mode,
                         through lowest: Int = 0) -> UnsafePointer<Float>? {
        let threads = Parallel.threads
        for i in lowest ..< layers.count { layers[i].beginBackward(threads: threads) }
        // Full-batch gradient buffers hold ∂loss/∂(output of layer i) only at segment boundaries (and for
        // `lowest`); inside a segment, chunks pass their gradients through two small per-thread buffers.
        if gradients.isEmpty { gradients = layers.dropLast().map { Buffer(unfilledCount: capacity * $0.outputShape.count) } }
        let widest = layers.map { max($0.inputShape.count, $0.outputShape.count) }.max()!
        if backStreams.count < threads || backStreams[0].0.count < Self.chunkFloats + widest {
            backStreams = (0 ..< threads).map { _ in (Buffer(unfilledCount: Self.chunkFloats + widest), Buffer(unfilledCount: Self.chunkFloats + widest)) }
        }
        let buffers = gradients.map(\.pointer)
        let last = layers.count - 1
        func dy(_ i: Int) -> UnsafePointer<Float> { i == last ? dLogits : UnsafePointer(buffers[i]) }
        func dx(_ i: Int) -> UnsafeMutablePointer<Float>? { i == 0 ? nil : buffers[i - 1] }
        for segment in segments(mode).reversed() where segment.layers.upperBound > lowest {
            let range = max(lowest, segment.layers.lowerBound) ..< segment.layers.upperBound
            if segment.coupled {
                let i = range.lowerBound
                layers[i].backward(self.input(ofLayer: i, input), output(ofLayer: i), dy(i), dx(i), samples: 0 ..< batch, thread: 0, mode: mode)
                continue
            }
            Parallel.forEachSlice(batch) { slice, thread in
                let pair = [backStreams[thread].0.pointer, backStreams[thread].1.pointer]
                for start in stride(from: slice.lowerBound, to: slice.upperBound, by: segment.chunk) {
                    let chunk = start ..< min(start + segment.chunk, slice.upperBound)
                    var gradient = dy(range.upperBound - 1), n = 0
                    var i = range.upperBound - 1
                    while i >= range.lowerBound {
                        // ReLU then 2×2 max pool: the pool routes each gradient to its window's maximum only
                        // if that maximum is positive, which is the ReLU's backward as well; skip the ReLU.
                        let fused = i > range.lowerBound && layers[i - 1] is ReLU && (layers[i] as? MaxPool).map { $0.size == 2 && $0.stride == 2 } == true
                        let bottom = fused ? i - 1 : i
                        let target: UnsafeMutablePointer<Float>? = bottom == range.lowerBound ? dx(bottom)
                            : pair[n % 2] - start * layers[bottom].inputShape.count
                        if fused {
                            (layers[i] as! MaxPool).backward(output(ofLayer: i - 1), gradient, target!, samples: chunk, rectified: true)
                        } else {
                            layers[i].backward(self.input(ofLayer: i, input), output(ofLayer: i), gradient, target, samples: chunk, thread: thread, mode: mode)
                        }
                        if let target { gradient = UnsafePointer(target) }
                        n += 1
                        i = bottom - 1
                    }
                }
            }
        }
        for i in lowest ..< layers.count { layers[i].endBackward() }
        return lowest > 0 ? dy(lowest - 1) : nil
    }

    /// Sets every parameter gradient to zero (call before each backward).
    public func zeroGradients() { for p in parameters { p.gradient.zero() } }
}
