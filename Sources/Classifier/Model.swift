import Foundation
import NeuralNetwork

/// A trained classifier: the network with its weights plus everything needed to use it on images
/// (class names, preprocessing) and the record of how it was trained. Saved as one `.smnet` file
/// (see `ModelFile`).
public final class Model {
    public let network: Network
    public var classNames: [String]
    public var preprocessing: Preprocessing
    public var training: TrainingRecord?
    /// How the model is meant to be run and its cross-validated error rates (nil: not calibrated).
    public var operatingPoint: OperatingPoint?

    public init(network: Network, classNames: [String], preprocessing: Preprocessing, training: TrainingRecord? = nil,
                operatingPoint: OperatingPoint? = nil) {
        precondition(classNames.count == network.classes, "\(classNames.count) class names for \(network.classes) outputs")
        self.network = network
        self.classNames = classNames
        self.preprocessing = preprocessing
        self.training = training
        self.operatingPoint = operatingPoint
    }

    /// Index of the class named "Parasitized"/"parasitized" (any case), if there is one.
    public var positiveClassIndex: Int? { classNames.firstIndex { $0.lowercased() == "parasitized" } }

    /// Every saved tensor in file order: each layer's parameters, then each layer's state.
    var tensors: [Buffer] { network.parameters.map(\.value) + network.state }

    /// Longest class name, in characters.
    static let classNameLimit = 100

    /// Why `names` cannot be a model's class names, or nil. Each name must be 1 to `classNameLimit`
    /// characters without control characters or line breaks (names are printed in one-line messages, CSV
    /// and reports), and no two may be equal ignoring case: `positiveClassIndex` and the class folders of
    /// `LabelledFolder` match names ignoring case (`lowercased()`).
    static func classNamesProblem(_ names: [String]) -> String? {
        var seen: [String: String] = [:]
        let breaking: Set<Unicode.GeneralCategory> = [.control, .lineSeparator, .paragraphSeparator]
        for name in names {
            guard !name.isEmpty else { return "a class name is empty" }
            guard !name.unicodeScalars.contains(where: { breaking.contains($0.properties.generalCategory) }) else {
                let shown = name.unicodeScalars.map { breaking.contains($0.properties.generalCategory) ? $0.escaped(asASCII: true) : String($0) }
                return "class name '\(shown.joined())' contains a control character or line break"
            }
            guard name.count <= classNameLimit else { return "class name '\(name.prefix(20))…' is longer than \(classNameLimit) characters" }
            if let other = seen[name.lowercased()] {
                return other == name ? "class name '\(name)' appears twice" : "class names '\(other)' and '\(name)' are the same ignoring case"
            }
            seen[name.lowercased()] = name
        }
        return nil
    }

    /// An upper bound, in Double, on the magnitude of every float32 value that `CellClassifier`
    /// computes with this model for any crop: the inference forward pass (input values in
    /// [0, 255 · `preprocessing.scale`]) and Grad-CAM's backward pass from a logit to the feature layer.
    /// Layer by layer and per channel c, with B the bound on the layer's input:
    /// - convolution, dense: for output channel o, `Σ |w| · B_in + |b|`; BatchNorm in inference, with
    ///   `a = γ / √(σ² + ε)`: `|a| · (B + |μ|) + |β|` (this also bounds `μ·a` and the convolution with
    ///   the BatchNorm folded in), and `a` itself; ReLU, max pooling, global average pooling and dropout
    ///   only select, average or copy, so B is unchanged, but global average pooling first sums H·W
    ///   values (H·W · B);
    /// - a float32 sum of n products, in any order, is at most (1 + 2⁻²⁴)ⁿ⁺¹ ≤ e^((n+1)·2⁻²⁴) times the
    ///   exact sum of their magnitudes (each value goes through at most n additions and one multiplication,
    ///   each rounding by at most 2⁻²⁴ relative), so every bound carries that factor and holds for the
    ///   float32 arithmetic too;
    /// - Grad-CAM: the gradient of a logit (seed 1) through the layers after `GradCAM.featureLayer` (dense,
    ///   BatchNorm, max pooling, ReLU, global average pooling, dropout; never a convolution) is bounded per
    ///   input channel by `max_i Σ_o |w[o, i]| · S_o`, `|a| · S`, (windows covering a pixel) · S, and S; the
    ///   sum of a channel's gradients by H·W · S, and the map `Σ_c mean(∂/∂A_c) · A_c` by `Σ_c S_c · B_c`.
    /// When the result is at most `Float.greatestFiniteMagnitude` no value overflows, so no infinity and
    /// no NaN (∞ − ∞, 0 · ∞) appears, and the softmax of finite logits is finite. The bound is the worst
    /// case over all inputs, far above what real crops reach; the bundled model's is 1.7·10⁷. It stops at
    /// the first layer where it exceeds `Float.greatestFiniteMagnitude` and returns the bound there.
    /// Requires finite weights and BatchNorm running variances ≥ 0. Cost: one pass over the weights.
    var worstCaseMagnitude: Double {
        let net = network, limit = Double(Float.greatestFiniteMagnitude)
        func rounding(_ terms: Int) -> Double { exp(Double(terms + 1) * 0x1p-24) }
        var bound = [Double](repeating: 255 * Double(preprocessing.scale) * rounding(1), count: net.inputShape.channels)
        var worst = bound.max() ?? 0
        var bounds: [[Double]] = []
        for layer in net.layers {
            switch layer {
            case let conv as Conv2D:
                let taps = conv.kernel * conv.kernel, inC = conv.inputShape.channels, w = conv.weight.value, b = conv.bias.value
                bound = (0 ..< conv.outputShape.channels).map { o in
                    var sum = Double(abs(b[o]))
                    for c in 0 ..< inC { for t in 0 ..< taps { sum += Double(abs(w[(o * inC + c) * taps + t])) * bound[c] } }
                    return sum * rounding(inC * taps + 1)
                }
            case let dense as Dense:
                let inCount = dense.inputShape.count, plane = dense.inputShape.height * dense.inputShape.width
                let w = dense.weight.value, b = dense.bias.value
                bound = (0 ..< dense.outputShape.channels).map { o in
                    var sum = Double(abs(b[o]))
                    for i in 0 ..< inCount { sum += Double(abs(w[o * inCount + i])) * bound[i / plane] }
                    return sum * rounding(inCount + 1)
                }
            case let bn as BatchNorm:
                bound = bound.indices.map { c in
                    let a = abs(Double(bn.gamma.value[c])) / (Double(bn.runningVariance[c]) + Double(bn.epsilon)).squareRoot() * rounding(3)
                    worst = max(worst, a)
                    return (a * (bound[c] + abs(Double(bn.runningMean[c]))) + abs(Double(bn.beta.value[c]))) * rounding(3)
                }
            case let pool as GlobalAveragePool:
                // The sum of the H·W values comes before the division.
                let plane = pool.inputShape.height * pool.inputShape.width
                worst = max(worst, (bound.max() ?? 0) * Double(plane) * rounding(plane))
            default: break  // ReLU, MaxPool, Dropout
            }
            worst = max(worst, bound.max() ?? 0)
            // Beyond float32 already. Stopping here also keeps every Double above finite: each is a product
            // of a few factors at most ~10⁴⁰ (float32 values, √ε = 0.03) times 2²⁴ terms.
            if worst > limit { return worst }
            bounds.append(bound)
        }
        guard let feature = GradCAM.featureLayer(net) else { return worst }
        var sensitivity = [Double](repeating: 1, count: net.classes)
        for index in (feature + 1 ..< net.layers.count).reversed() {
            let layer = net.layers[index]
            switch layer {
            case let dense as Dense:
                let inCount = dense.inputShape.count, plane = dense.inputShape.height * dense.inputShape.width
                let w = dense.weight.value, units = dense.outputShape.channels
                var input = [Double](repeating: 0, count: dense.inputShape.channels)
                for i in 0 ..< inCount {
                    var sum = 0.0
                    for o in 0 ..< units { sum += Double(abs(w[o * inCount + i])) * sensitivity[o] }
                    input[i / plane] = max(input[i / plane], sum * rounding(units))
                }
                sensitivity = input
            case let bn as BatchNorm:
                sensitivity = sensitivity.indices.map { c in
                    abs(Double(bn.gamma.value[c])) / (Double(bn.runningVariance[c]) + Double(bn.epsilon)).squareRoot() * sensitivity[c] * rounding(2)
                }
            case let pool as MaxPool:
                let windows = (pool.size + pool.stride - 1) / pool.stride
                sensitivity = sensitivity.map { $0 * Double(windows * windows) * rounding(windows * windows) }
            default: break  // ReLU, GlobalAveragePool (divides by H·W), Dropout
            }
            worst = max(worst, sensitivity.max() ?? 0)
            if worst > limit { return worst }
        }
        // Grad-CAM sums each channel's H·W gradients before dividing by H·W, then adds mean · A over channels.
        let plane = net.layers[feature].outputShape.height * net.layers[feature].outputShape.width
        let gradientSum = (sensitivity.max() ?? 0) * Double(plane) * rounding(plane)
        let map = zip(sensitivity, bounds[feature]).reduce(0) { $0 + $1.0 * $1.1 } * rounding(2 * sensitivity.count)
        return max(worst, gradientSum, map)
    }
}
