import Foundation

/// Softmax over the classes followed by the mean cross-entropy over the batch.
///
/// With label smoothing `ε` the target of sample n is `(1 − ε)·onehot(label) + ε / K`.
/// Writes the probabilities into `probabilities[batch, K]` and, if given, `∂loss/∂logits` into
/// `dLogits[batch, K]` (`(p − target) / batch`). Returns the mean loss. Cost: O(batch · K).
public func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: [Int], classes k: Int,
                                probabilities: UnsafeMutablePointer<Float>,
                                dLogits: UnsafeMutablePointer<Float>?, labelSmoothing: Float = 0) -> Float {
    let batch = labels.count
    var loss: Double = 0
    for n in 0 ..< batch {
        softmax(logits + n * k, probabilities + n * k, k)
        for j in 0 ..< k {
            let target = (j == labels[n] ? 1 - labelSmoothing : 0) + labelSmoothing / Float(k)
            if target > 0 { loss -= Double(target * logf(max(probabilities[n * k + j], 1e-30))) }
            dLogits?[n * k + j] = (probabilities[n * k + j] - target) / Float(batch)
        }
    }
    return Float(loss / Double(batch))
}

/// Numerically stable softmax of `k` logits (subtracts the maximum first).
public func softmax(_ logits: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ k: Int) {
    var m = logits[0]
    for j in 1 ..< max(k, 1) { m = max(m, logits[j]) }
    var s: Float = 0
    for j in 0 ..< k { out[j] = expf(logits[j] - m); s += out[j] }
    for j in 0 ..< k { out[j] /= s }
}
