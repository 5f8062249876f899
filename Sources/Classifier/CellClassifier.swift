import Foundation
import ImageCodecs
import NeuralNetwork

/// The library face of the classifier, for the `smear` commands and the pipeline.
///
/// Wraps a `Model`; `probabilities` applies the model's own preprocessing (fit, area resize, scaling) to
/// crops of any size and runs them in batches of up to 256 across all cores; with `symmetries`, the
/// doubtful ones are averaged over flips and rotations (test-time augmentation). Calls are serialised
/// by a lock (the network owns its activation buffers); a `CellClassifier` can be shared between
/// threads.
public struct CellClassifier: @unchecked Sendable {
    public let model: Model
    /// How many symmetries of the square a doubtful crop's probabilities are averaged over (see
    /// `probabilities`): 1 (the plain input), 2 (and its horizontal flip), 4 (and its vertical flip and
    /// 180° rotation) or 8 (and the four transposed), in `Augmentation.source`'s order.
    public let symmetries: Int
    private let lock = NSLock()
    /// The network input of the last batch and its moved copy, kept between calls (allocating and
    /// zero-filling 7 MB per batch of 256 cost about 5 µs per cell). Only used under `lock`.
    private final class InputBuffer: @unchecked Sendable { var buffer = Buffer(count: 0), moved = Buffer(count: 0) }
    private let inputBuffer = InputBuffer()

    /// `model` must take 3 input channels: crops are RGB. `symmetries` (default: the model's operating
    /// point, else 1) must be 1, 2, 4 or 8, and only 1 for a network whose input is not square.
    public init(model: Model, symmetries: Int? = nil) {
        precondition(model.network.inputShape.channels == 3, "crops are RGB: the network input must have 3 channels")
        let n = symmetries ?? model.operatingPoint?.symmetries ?? 1
        let input = model.network.inputShape
        if let problem = OperatingPoint.symmetryProblem(n, inputWidth: input.width, inputHeight: input.height) { preconditionFailure(problem) }
        self.model = model
        self.symmetries = n
    }

    /// The same model run with `symmetries` (1, 2, 4 or 8; see `init`).
    public func with(symmetries: Int) -> CellClassifier { CellClassifier(model: model, symmetries: symmetries) }

    /// Loads a `.smnet` file; the error is one line naming the file.
    public init(contentsOf path: String) throws(ModelFileError) {
        self.init(model: try ModelFile.load(path: path).0)
    }

    /// Path of the model bundled with smear (`Resources/cells.smnet`).
    public static var bundledPath: String? { Bundle.module.path(forResource: "cells", ofType: "smnet", inDirectory: "Resources") }

    /// The bundled default model, trained on NIH crops and IML-Malaria, Chula and BCCD field cells (see MODEL.md).
    public static func bundled() throws(ModelFileError) -> CellClassifier {
        guard let path = bundledPath else { throw ModelFileError(file: "cells.smnet", "bundled model is missing from the resources") }
        return try CellClassifier(contentsOf: path)
    }

    /// The model's operating point if it is the one run at `threshold` (its threshold and this
    /// classifier's symmetries), else nil: its error rates hold only there.
    public func operatingPoint(at threshold: Double) -> OperatingPoint? {
        model.operatingPoint.flatMap { $0.threshold == threshold && $0.symmetries == symmetries ? $0 : nil }
    }

    /// The decision threshold to use: `given`, else the model's operating point's, else 0.5 (the argmax
    /// of two classes).
    public func threshold(_ given: Double?) -> Double { given ?? model.operatingPoint?.threshold ?? 0.5 }

    public var classNames: [String] { model.classNames }
    /// Index of "Parasitized"/"parasitized", if the model has such a class.
    public var positiveClassIndex: Int? { model.positiveClassIndex }

    /// Largest number of crops run through the network at once (the doubtful ones' other symmetries
    /// go through in one batch of up to (symmetries − 1) × this).
    public static let batchLimit = 256

    /// The top probability from which a crop's plain output is final, with symmetries. The network's
    /// outputs on field cells lie mostly near 0.025 and 0.975 (label smoothing 0.05); out of fold,
    /// averaging over 4 symmetries only for the crops below this gives the calls of averaging over all
    /// (MODEL.md, "Operating point").
    public static let confident: Float = 0.95

    /// Class probabilities (rows sum to 1, `classNames` order) for each crop. With one symmetry, the
    /// network's softmax output. With n > 1, a crop whose plain output is confident (top probability
    /// ≥ `confident`) keeps it, and any other crop gets the mean of the outputs over the n symmetries
    /// (`symmetries`): test-time augmentation where it can change the call. Cost per crop: the resize
    /// plus `model.network.spec.flopsPerSample` flops, and n − 1 times that again for a doubtful crop
    /// (about 1 crop in 20 of a field's), on all cores.
    ///
    /// For a model that `ModelFile` loaded every value is finite: loading checks that no crop can make the
    /// network overflow float32 (`Model.worstCaseMagnitude`). A model built in code (a network being
    /// trained, `smear evaluate --speed --arch`) is not checked: if its weights overflow float32, its rows
    /// are NaN. `checkedProbabilities` refuses such rows.
    public func probabilities(_ crops: [RGBImage]) -> [[Float]] {
        lock.lock(); defer { lock.unlock() }
        let net = model.network, per = net.inputShape.count, k = net.classes
        let needed = min(crops.count, Self.batchLimit) * per
        if inputBuffer.buffer.count < needed { inputBuffer.buffer = Buffer(count: needed) }
        let input = inputBuffer.buffer
        let side = net.inputShape.width, channels = net.inputShape.channels
        var result: [[Float]] = []
        result.reserveCapacity(crops.count)
        for start in stride(from: 0, to: crops.count, by: Self.batchLimit) {
            let n = min(Self.batchLimit, crops.count - start)
            prepare(crops[start ..< start + n], into: input)
            let logits = net.forward(input.pointer, batch: n, mode: .inference)
            var rows = (0 ..< n).map { i in
                var p = [Float](repeating: 0, count: k)
                p.withUnsafeMutableBufferPointer { softmax(logits + i * k, $0.baseAddress!, k) }
                return p
            }
            // The other symmetries, for the crops the plain input leaves in doubt, in one batch:
            // moved[(s − 1) · m + j] is doubtful crop j under symmetry s.
            let doubtful = symmetries == 1 ? [] : (0 ..< n).filter { rows[$0].max()! < Self.confident }
            let m = doubtful.count, others = symmetries - 1
            if m > 0 {
                if inputBuffer.moved.count < others * m * per { inputBuffer.moved = Buffer(count: others * Self.batchLimit * per) }
                let moved = inputBuffer.moved
                Parallel.forEachChunk(others * m, chunk: 16) { range, _ in
                    for t in range {
                        Augmentation.symmetric(planar: input.pointer + doubtful[t % m] * per, side: side, channels: channels,
                                               symmetry: 1 + t / m, into: moved.pointer + t * per)
                    }
                }
                let logits = net.forward(moved.pointer, batch: others * m, mode: .inference)
                var p = [Float](repeating: 0, count: k)
                for t in 0 ..< others * m {
                    p.withUnsafeMutableBufferPointer { softmax(logits + t * k, $0.baseAddress!, k) }
                    for c in 0 ..< k { rows[doubtful[t % m]][c] += p[c] }
                }
                let share = 1 / Float(symmetries)
                for i in doubtful { for c in 0 ..< k { rows[i][c] *= share } }
            }
            result += rows
        }
        return result
    }

    /// `probabilities(crops)`, failing on the first crop whose row holds a value that is not finite.
    public func checkedProbabilities(_ crops: [RGBImage]) throws(NonFiniteProbabilityError) -> [[Float]] {
        let rows = probabilities(crops)
        if let crop = rows.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) { throw NonFiniteProbabilityError(crop: crop, row: rows[crop]) }
        return rows
    }

    /// Fits, resizes and scales `crops` into `input` (planar, one sample after another), on all cores.
    func prepare(_ crops: ArraySlice<RGBImage>, into input: Buffer) {
        let shape = model.network.inputShape, pre = model.preprocessing, first = crops.startIndex
        Parallel.forEachChunk(crops.count, chunk: 16) { range, _ in
            for i in range {
                pre.input(crops[first + i], width: shape.width, height: shape.height, into: input.pointer + i * shape.count)
            }
        }
    }

    /// Grad-CAM of `classIndex` for one crop: which pixels raised that class's score. The heatmap has the
    /// crop's size, values in [0, 1]. Requires a convolution feeding the head (`GradCAM.featureLayer`).
    public func gradCAM(_ crop: RGBImage, classIndex: Int) -> GradCAM {
        lock.lock(); defer { lock.unlock() }
        let input = Buffer(count: model.network.inputShape.count)
        prepare([crop][...], into: input)
        return GradCAM(model: model, input: input, classIndex: classIndex, cropWidth: crop.width, cropHeight: crop.height)
    }
}

/// A row of `CellClassifier.probabilities` that is not a probability distribution: the model overflowed
/// float32 on crop `crop` (index in the call) and gave `row`.
public struct NonFiniteProbabilityError: Error, CustomStringConvertible {
    public let crop: Int
    public let row: [Float]
    /// One line about the row, for the crop called `name` (a file, as the caller knows it).
    public func message(for name: String) -> String {
        "the model gives non-finite probabilities (\(row.map { $0.isNaN ? "nan" : "\($0)" }.joined(separator: ", "))) for \(name)"
    }
    public var description: String { message(for: "crop \(crop)") }
}
