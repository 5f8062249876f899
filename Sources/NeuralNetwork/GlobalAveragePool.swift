/// Global average pooling: `y[n, c] = mean_{h,w} x[n, c, h, w]`, output `C×1×1`; `dx = dy / (H·W)`.
/// Cost: one pass over the input.
public final class GlobalAveragePool: Layer {
    public let inputShape: Shape
    public var outputShape: Shape { Shape(inputShape.channels, 1, 1) }
    public init(input: Shape) { inputShape = input }

    // x: [batch, C, H, W] → y: [batch, C]
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, mode: Mode) {
        let hw = inputShape.height * inputShape.width, scale = 1 / Float(hw)
        Parallel.forEachSlice(batch * inputShape.channels) { planes, _ in
            for plane in planes {
                var s: Float = 0
                let src = x + plane * hw
                for i in 0 ..< hw { s += src[i] }
                y[plane] = s * scale
            }
        }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, batch: Int, mode: Mode) {
        guard let dx else { return }
        let hw = inputShape.height * inputShape.width, scale = 1 / Float(hw)
        Parallel.forEachSlice(batch * inputShape.channels) { planes, _ in
            for plane in planes { (dx + plane * hw).update(repeating: dy[plane] * scale, count: hw) }
        }
    }
}
