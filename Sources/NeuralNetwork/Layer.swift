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

/// One layer of a sequential network: a `forward`/`backward` pair over a batch in NCHW layout.
///
/// `forward` reads `x[batch, inputShape]` and writes `y[batch, outputShape]`. `backward` receives the same
/// `x` and `y` with `dy` (∂loss/∂y), *adds* ∂loss/∂parameters into each parameter's `gradient`, and writes
/// ∂loss/∂x into `dx` unless it is nil (the first layer needs no input gradient). Layers may keep what a
/// training-mode forward computed (BatchNorm statistics, dropout masks) for the following backward.
public protocol Layer: AnyObject {
    var inputShape: Shape { get }
    var outputShape: Shape { get }
    /// Trainable tensors, in a fixed order (the order of the model file).
    var parameters: [Parameter] { get }
    /// Non-trainable tensors saved with the model (BatchNorm running statistics).
    var state: [Buffer] { get }
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, mode: Mode)
    func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  _ dx: UnsafeMutablePointer<Float>?, batch: Int, mode: Mode)
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var state: [Buffer] { [] }
}
