/// Inverted dropout: in training each element is kept with probability `1 − rate` and scaled by
/// `1 / (1 − rate)`, else zeroed; in inference `y = x`. The mask comes from `generator`, drawn for the
/// whole batch in order (so training couples the batch), so a seeded network drops the same elements run
/// after run. Cost: one pass plus one random number per element.
public final class Dropout: Layer {
    public let inputShape: Shape
    public var outputShape: Shape { inputShape }
    public let rate: Float
    /// Source of the masks; reset it to replay a mask.
    public var generator: SeededGenerator
    private var mask = Workspace()

    public init(input: Shape, rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1)
        inputShape = input
        self.rate = rate
        generator = SeededGenerator(seed: seed)
    }

    public func couplesBatch(_ mode: Mode) -> Bool { mode == .training && rate > 0 }
    public var isElementwise: Bool { true }

    // x: [batch, C, H, W] → y: same shape
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, thread: Int, mode: Mode) {
        let lo = samples.lowerBound * inputShape.count, n = samples.count * inputShape.count
        guard mode == .training, rate > 0 else { (y + lo).update(from: x + lo, count: n); return }
        let m = mask.reserve(lo + n), keep = 1 / (1 - rate)
        for i in lo ..< lo + n { m[i] = generator.uniform() < rate ? 0 : keep }
        for i in lo ..< lo + n { y[i] = x[i] * m[i] }
    }

    public func backward(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, samples: Range<Int>, thread: Int, mode: Mode) {
        guard let dx else { return }
        let lo = samples.lowerBound * inputShape.count, n = samples.count * inputShape.count
        guard mode == .training, rate > 0 else { (dx + lo).update(from: dy + lo, count: n); return }
        let m = mask.buffer.pointer
        for i in lo ..< lo + n { dx[i] = dy[i] * m[i] }
    }
}
