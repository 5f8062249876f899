/// Global average pooling: `y[n, c] = mean_{h,w} x[n, c, h, w]`, output `C×1×1`; `dx = dy / (H·W)`.
/// Cost: one pass over the input.
public final class GlobalAveragePool: Layer {
    public let inputShape: Shape
    public var outputShape: Shape { Shape(inputShape.channels, 1, 1) }
    public init(input: Shape) { inputShape = input }

    // x: [batch, C, H, W] → y: [batch, C]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let hw = inputShape.height * inputShape.width, c = inputShape.channels, scale = 1 / Float(hw)
        for plane in samples.lowerBound * c ..< samples.upperBound * c { y[plane] = sum(x + plane * hw, hw) * scale }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        guard let dx else { return }
        let hw = inputShape.height * inputShape.width, c = inputShape.channels, scale = 1 / Float(hw)
        for plane in samples.lowerBound * c ..< samples.upperBound * c { (dx + plane * hw).update(repeating: dy[plane] * scale, count: hw) }
    }
}
