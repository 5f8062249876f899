/// Rectified linear unit, `y = max(x, 0)`; `dx = dy · [y > 0]`. Cost: one pass.
public final class ReLU: Layer {
    public let inputShape: Shape
    public var outputShape: Shape { inputShape }
    public init(input: Shape) { inputShape = input }
    public var isElementwise: Bool { true }

    // x: [batch, C, H, W] → y: same shape
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let count = inputShape.count
        for i in samples.lowerBound * count ..< samples.upperBound * count { let v = x[i]; y[i] = v > 0 ? v : 0 }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        guard let dx else { return }
        let count = inputShape.count
        for i in samples.lowerBound * count ..< samples.upperBound * count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }
}
