import Foundation
import ImageCodecs
import NeuralNetwork

/// The library face of the classifier, for the `smear` commands and the pipeline.
///
/// Wraps a `Model`; `probabilities` applies the model's own preprocessing (fit, area resize, scaling) to
/// crops of any size and runs them in batches of up to 256 across all cores. Calls are serialised by a
/// lock (the network owns its activation buffers); a `CellClassifier` can be shared between threads.
public struct CellClassifier: @unchecked Sendable {
    public let model: Model
    private let lock = NSLock()
    /// The network input of the last batch, kept between calls (allocating and zero-filling 7 MB per batch of
    /// 256 cost about 5 µs per cell). Only used under `lock`.
    private final class InputBuffer: @unchecked Sendable { var buffer = Buffer(count: 0) }
    private let inputBuffer = InputBuffer()

    /// `model` must take 3 input channels: crops are RGB.
    public init(model: Model) {
        precondition(model.network.inputShape.channels == 3, "crops are RGB: the network input must have 3 channels")
        self.model = model
    }

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

    public var classNames: [String] { model.classNames }
    /// Index of "Parasitized"/"parasitized", if the model has such a class.
    public var positiveClassIndex: Int? { model.positiveClassIndex }

    /// Largest number of crops run through the network at once.
    public static let batchLimit = 256

    /// Class probabilities (rows sum to 1, `classNames` order) for each crop. Cost per crop: the
    /// resize plus `model.network.spec.flopsPerSample` flops, on all cores.
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
        var result: [[Float]] = []
        result.reserveCapacity(crops.count)
        for start in stride(from: 0, to: crops.count, by: Self.batchLimit) {
            let n = min(Self.batchLimit, crops.count - start)
            prepare(crops[start ..< start + n], into: input)
            let logits = net.forward(input.pointer, batch: n, mode: .inference)
            var p = [Float](repeating: 0, count: k)
            for i in 0 ..< n {
                p.withUnsafeMutableBufferPointer { softmax(logits + i * k, $0.baseAddress!, k) }
                result.append(p)
            }
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
