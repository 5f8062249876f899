/// Per-sample tensor shape, channels × height × width. Batches are laid out NCHW, contiguous.
public struct Shape: Equatable, Codable, Sendable, CustomStringConvertible {
    public var channels: Int, height: Int, width: Int
    public init(_ channels: Int, _ height: Int, _ width: Int) {
        self.channels = channels; self.height = height; self.width = width
    }
    /// Floats per sample.
    public var count: Int { channels * height * width }
    public var description: String { "\(channels)×\(height)×\(width)" }
}

/// Whether a forward pass is for training (batch statistics, dropout active) or inference.
public enum Mode: Sendable { case training, inference }

/// A trainable tensor and its gradient (same size). `decays` marks weights subject to weight decay
/// (convolution and dense kernels), as opposed to biases and BatchNorm scales/shifts.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let value: Buffer
    public let gradient: Buffer
    public let decays: Bool
    init(name: String, count: Int, decays: Bool) {
        self.name = name
        value = Buffer(count: count)
        gradient = Buffer(count: count)
        self.decays = decays
    }
}

/// One layer of a sequential network: a `forward`/`backward` pair over samples of a batch in NCHW layout.
///
/// `x`, `y`, `dy` and `dx` point at sample 0 of the whole batch; a call handles the samples in `samples`
/// on worker `thread` (single-threaded), so the network can run several layers on a small chunk of
/// samples while it is in cache. A layer that `couplesBatch` (BatchNorm in training) is instead called
/// once with the whole batch and parallelises internally.
///
/// `backward` receives the same `x` and `y` with `dy` (∂loss/∂y), adds ∂loss/∂parameters into per-thread
/// accumulators that `endBackward` adds into each parameter's `gradient`, and writes ∂loss/∂x into `dx`
/// unless it is nil (the first layer needs no input gradient).
public protocol Layer: AnyObject {
    var inputShape: Shape { get }
    var outputShape: Shape { get }
    /// Trainable tensors, in a fixed order (the order of the model file).
    var parameters: [Parameter] { get }
    /// Non-trainable tensors saved with the model (BatchNorm running statistics).
    var state: [Buffer] { get }
    /// Whether the samples of a batch must be processed together in `mode`.
    func couplesBatch(_ mode: Mode) -> Bool
    /// Whether output element (c, y, x) of a sample is computed from input element (c, y, x) alone (with
    /// parameters or statistics that do not depend on the position), so that the output keeps the shape
    /// and the spatial meaning of the input's feature maps. ReLU, BatchNorm and dropout are (the default
    /// is false); Grad-CAM reads the last convolution's maps after the elementwise layers that follow it.
    var isElementwise: Bool { get }
    /// The per-channel affine map `y[c, h, w] = x[c, h, w]·scale[c] + shift[c]` this layer computes in
    /// inference mode, or nil if it computes anything else (the default). The network folds such a layer
    /// into the output pass of the convolution before it, or of the 2×2 max pool that ends such a pass.
    ///
    /// Without `inputBias`, `scale` and `shift` are the factors of the layer's own inference `forward`, so
    /// a folded layer gives the same bits as the layer run on its own. With `inputBias[c]` (a preceding
    /// convolution's bias), the map of `x + inputBias`, with the bias folded into `shift`.
    /// Cost: O(channels), two new buffers of `channels` floats.
    func inferenceAffine(inputBias: UnsafePointer<Float>?) -> (scale: Buffer, shift: Buffer)?
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode)
    func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode)
    /// Prepares per-thread gradient accumulators for a backward pass on `threads` workers.
    func beginBackward(threads: Int)
    /// Adds the per-thread accumulators into the parameters' gradients, in thread order.
    func endBackward()
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var state: [Buffer] { [] }
    public func couplesBatch(_ mode: Mode) -> Bool { false }
    public var isElementwise: Bool { false }
    public func inferenceAffine(inputBias: UnsafePointer<Float>?) -> (scale: Buffer, shift: Buffer)? { nil }
    public func beginBackward(threads: Int) {}
    public func endBackward() {}

    /// Runs the whole batch through this layer alone (across `Parallel.threads` unless coupled).
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, mode: Mode) {
        if mode == .training, let conv = self as? Conv2D { conv.reserveColumns(batch) }
        if couplesBatch(mode) { forward(x, y, samples: 0 ..< batch, thread: 0, mode: mode); return }
        Parallel.forEachSlice(batch) { range, t in forward(x, y, samples: range, thread: t, mode: mode) }
    }

    /// Back-propagates the whole batch through this layer alone, gradients included.
    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, batch: Int, mode: Mode) {
        beginBackward(threads: Parallel.threads)
        if couplesBatch(mode) { backward(x, y, dy, dx, samples: 0 ..< batch, thread: 0, mode: mode) } else {
            Parallel.forEachSlice(batch) { range, t in backward(x, y, dy, dx, samples: range, thread: t, mode: mode) }
        }
        endBackward()
    }
}

/// Per-thread gradient accumulators for one parameter tensor.
final class GradientAccumulators: @unchecked Sendable {
    private var buffers: [Buffer] = []
    private var used = 0
    let count: Int
    init(count: Int) { self.count = count }

    func begin(threads: Int) {
        while buffers.count < threads { buffers.append(Buffer(count: count)) }
        for t in 0 ..< threads { buffers[t].zero() }
        used = threads
    }

    /// Accumulator of worker `thread`.
    func callAsFunction(_ thread: Int) -> UnsafeMutablePointer<Float> { buffers[thread].pointer }

    /// Adds every accumulator into `gradient`, in thread order (deterministic).
    func end(into gradient: Buffer) {
        let g = gradient.pointer, sources = buffers.prefix(used).map(\.pointer)
        // Split by element across threads; each element still adds the accumulators in thread order.
        Parallel.forEachSlice(count, minimumPerThread: 16_384) { range, _ in
            for a in sources { for i in range { g[i] += a[i] } }
        }
        used = 0
    }
}
