import Foundation
import NeuralNetwork

/// The `.smnet` model file: one binary file holding architecture, weights, preprocessing, class names and
/// training record, protected by a checksum. All integers little-endian.
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `SMEARNET` |
/// | 4 | format version (UInt32, currently 1) |
/// | 4 | header length H (UInt32) |
/// | H | header, UTF-8 JSON: `architecture` (spec text), `classNames`, `preprocessing`, `training`, `operatingPoint` (optional, `OperatingPoint`), `weights` (`float16`/`float32`), `values` (number of stored values), `checkpoint` (optional) |
/// | values × 2 or 4 | every layer's parameters in layer order (conv `[out, in, k, k]` then bias; dense `[out, in]` then bias; BN γ then β), then every BN's running mean and variance |
/// | optional | checkpoint only: optimizer moments, float32, parameter order (first, then second for Adam) |
/// | 4 | CRC-32 (IEEE) of all preceding bytes |
public enum ModelFile {
    public static let magic = Array("SMEARNET".utf8)
    public static let version: UInt32 = 1

    public enum WeightFormat: String, Codable, Sendable { case float16, float32 }

    /// Training state saved with `--resume` checkpoints in addition to the model.
    public struct Checkpoint: Codable, Sendable {
        public var settings: OptimizerSettings
        public var step: Int
        /// Epochs completed.
        public var epoch: Int
        public var bestEpoch: Int
        public var bestScore: Double
        /// Number of float32 optimizer-moment values stored after the weights.
        public var moments: Int
        public init(settings: OptimizerSettings, step: Int, epoch: Int, bestEpoch: Int, bestScore: Double, moments: Int) {
            self.settings = settings; self.step = step; self.epoch = epoch; self.bestEpoch = bestEpoch
            self.bestScore = bestScore; self.moments = moments
        }

        /// Whether `moments` ends with the weight averages (`Trainer` with `averageDecay` > 0), for a
        /// checkpoint whose `problem(parameters:)` is nil.
        public func holdsWeightAverages(parameters: Int) -> Bool {
            moments == (settings.kind == .adam ? 3 : 2) * parameters
        }

        /// Why this checkpoint cannot resume training a network of `parameters` trainable values, or nil.
        /// The optimizer settings must be usable: learning rate and weight decay finite and ≥ 0, β₁
        /// (`momentum`) and β₂ in [0, 1) (Adam divides by 1 − βᵗ), ε finite and > 0. `step`, `epoch` ≥ 0,
        /// 0 ≤ `bestEpoch` ≤ `epoch`, `bestScore` finite. `moments` is what `Trainer.checkpoint()` stores:
        /// the first moments (SGD) or first and second (Adam), `parameters` values each, optionally followed
        /// by the weight averages (`parameters` more).
        func problem(parameters: Int) -> String? {
            let o = settings
            let perParameter = o.kind == .adam ? [2, 3] : [1, 2]
            let checks: [(Bool, String)] = [
                (o.learningRate >= 0 && o.learningRate.isFinite, "learning rate \(o.learningRate) is not a finite value ≥ 0"),
                (o.weightDecay >= 0 && o.weightDecay.isFinite, "weight decay \(o.weightDecay) is not a finite value ≥ 0"),
                (o.momentum >= 0 && o.momentum < 1, "momentum \(o.momentum) is not in [0, 1)"),
                (o.beta2 >= 0 && o.beta2 < 1, "beta2 \(o.beta2) is not in [0, 1)"),
                (o.epsilon > 0 && o.epsilon.isFinite, "epsilon \(o.epsilon) is not a finite value > 0"),
                (step >= 0 && epoch >= 0, "negative step or epoch"),
                (bestEpoch >= 0 && bestEpoch <= epoch, "bestEpoch \(bestEpoch) is not in 0...epoch (\(epoch))"),
                (bestScore.isFinite, "bestScore \(bestScore) is not finite"),
                (perParameter.map { $0 * parameters }.contains(moments),
                 "\(moments) optimizer moments for \(parameters) parameters (\(o.kind.rawValue) stores \(perParameter.map { "\($0 * parameters)" }.joined(separator: " or ")))"),
            ]
            return checks.first { !$0.0 }.map { "checkpoint: " + $0.1 }
        }
    }

    struct Header: Codable {
        var architecture: NetworkSpec
        var classNames: [String]
        var preprocessing: Preprocessing
        var training: TrainingRecord?
        var operatingPoint: OperatingPoint?
        var weights: WeightFormat
        var values: Int
        var checkpoint: Checkpoint?
    }

    /// Serialises `model`; with `checkpoint`, also the `extra` float32 values (optimizer moments).
    public static func encode(_ model: Model, format: WeightFormat = .float16,
                              checkpoint: (Checkpoint, [Float])? = nil) -> [UInt8] {
        let tensors = model.tensors
        let header = Header(architecture: model.network.spec, classNames: model.classNames,
                            preprocessing: model.preprocessing, training: model.training,
                            operatingPoint: model.operatingPoint, weights: format,
                            values: tensors.reduce(0) { $0 + $1.count }, checkpoint: checkpoint?.0)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array(try! encoder.encode(header))
        var out = magic
        append(&out, version)
        append(&out, UInt32(json.count))
        out += json
        for t in tensors {
            for i in 0 ..< t.count {
                switch format {
                case .float16: append(&out, Float16(t[i]).bitPattern)
                case .float32: append(&out, t[i].bitPattern)
                }
            }
        }
        for v in checkpoint?.1 ?? [] { append(&out, v.bitPattern) }
        append(&out, CRC32.checksum(out))
        return out
    }

    /// Rebuilds the model (and checkpoint, if the file has one). Every failure is one clear line naming `name`.
    ///
    /// Validated before anything is allocated from it: the lengths against the file size, the
    /// architecture against `NetworkSpec.Limits` (while the header is decoded), the class names
    /// (`Model.classNamesProblem`), preprocessing, training record, operating point and checkpoint settings, and the number
    /// of values the architecture needs against the header and the file. Then, as the values are read:
    /// every weight, BatchNorm statistic and optimizer moment must be finite, every running variance ≥ 0,
    /// and `Model.worstCaseMagnitude` at most `Float.greatestFiniteMagnitude`, so that no crop can make
    /// the network overflow float32. A model that decodes gives finite probabilities for every crop.
    public static func decode(_ bytes: [UInt8], name: String) throws(ModelFileError) -> (Model, (Checkpoint, [Float])?) {
        func fail(_ message: String) -> ModelFileError { ModelFileError(file: name, message) }
        guard bytes.count >= 20 else {
            throw bytes.starts(with: magic.prefix(bytes.count)) && !bytes.isEmpty ? fail("truncated (\(bytes.count) bytes)") : fail("not a smear model file")
        }
        guard Array(bytes[0 ..< 8]) == magic else { throw fail("not a smear model file (bad magic)") }
        let fileVersion = read32(bytes, 8)
        guard fileVersion == version else { throw fail("model file version \(fileVersion) is not supported (this smear reads version \(version))") }
        let headerLength = Int(read32(bytes, 12))
        guard 16 + headerLength + 4 <= bytes.count else { throw fail("truncated (header needs \(headerLength) bytes)") }
        let checksumOK = CRC32.checksum(bytes[0 ..< bytes.count - 4]) == read32(bytes, bytes.count - 4)
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[16 ..< 16 + headerLength])) } catch {
            throw checksumOK ? fail("invalid header: " + headerProblem(error)) : fail("corrupt (checksum mismatch)")
        }
        let width = header.weights == .float16 ? 2 : 4
        let extra = header.checkpoint?.moments ?? 0
        guard (0 ... bytes.count).contains(header.values), (0 ... bytes.count).contains(extra) else {
            throw checksumOK ? fail("invalid header: impossible value counts") : fail("corrupt (checksum mismatch)")
        }
        let expected = 16 + headerLength + header.values * width + extra * 4 + 4
        guard bytes.count >= expected else { throw fail("truncated (\(bytes.count) of \(expected) bytes)") }
        guard bytes.count == expected else { throw fail("corrupt (\(bytes.count - expected) unexpected trailing bytes)") }
        guard checksumOK else { throw fail("corrupt (checksum mismatch)") }

        let spec = header.architecture
        guard spec.items.allSatisfy({ $0 != .dense(units: nil) }) else { throw fail("architecture has unresolved 'dense classes'") }
        guard spec.input.channels == 3 else { throw fail("the network input has \(spec.input.channels) channels; crops are RGB (3)") }
        // The header decoded, so the architecture passed `size()` already.
        let size = try! spec.size(), classes = size.shapes.last!.count
        guard header.classNames.count == classes else {
            throw fail("\(header.classNames.count) class names but the architecture has \(classes) outputs")
        }
        if let problem = Model.classNamesProblem(header.classNames) ?? header.preprocessing.problem ?? header.training?.problem
            ?? header.operatingPoint?.problem            ?? header.checkpoint?.problem(parameters: size.parameters) {
            throw fail(problem)
        }
        if let n = header.operatingPoint?.symmetries,
           let problem = OperatingPoint.symmetryProblem(n, inputWidth: spec.input.width, inputHeight: spec.input.height) {
            throw fail("operating point: \(problem)")
        }
        guard size.values == header.values else {
            throw fail("architecture and weights disagree: the architecture needs \(size.values) values, the file holds \(header.values)")
        }

        let network = Network(spec: spec, seed: 0)
        let model = Model(network: network, classNames: header.classNames, preprocessing: header.preprocessing, training: header.training,
                          operatingPoint: header.operatingPoint)
        var offset = 16 + headerLength
        for (tensor, what, layer) in namedTensors(network) {
            for i in 0 ..< tensor.count {
                let v = width == 2 ? Float(Float16(bitPattern: read16(bytes, offset))) : Float(bitPattern: read32(bytes, offset))
                if !v.isFinite || (what == "running variance" && v < 0) {
                    throw fail("\(what) \(i) of layer \(layer + 1) (\(spec.items[layer])) is \(v)" + (v < 0 && v.isFinite ? ", below 0" : ""))
                }
                tensor[i] = v
                offset += width
            }
        }
        let magnitude = model.worstCaseMagnitude
        guard magnitude <= Double(Float.greatestFiniteMagnitude) else {
            throw fail(String(format: "weights too large: values in the network can reach %.3g, beyond float32 (%.3g)",
                              magnitude, Double(Float.greatestFiniteMagnitude)))
        }
        guard let checkpoint = header.checkpoint else { return (model, nil) }
        var moments = [Float](repeating: 0, count: extra)
        for i in 0 ..< extra {
            moments[i] = Float(bitPattern: read32(bytes, offset))
            guard moments[i].isFinite else { throw fail("checkpoint: optimizer moment \(i) is \(moments[i])") }
            offset += 4
        }
        return (model, (checkpoint, moments))
    }

    /// Every saved tensor of `network` in file order (`Model.tensors`: each layer's parameters, then each
    /// layer's state), with what it is ("weight", "bias", "gamma", "beta", "running mean", "running
    /// variance") and the index of its layer (0 for the first item after the input).
    private static func namedTensors(_ network: Network) -> [(Buffer, String, Int)] {
        let layers = network.layers.enumerated()
        let parameters = layers.flatMap { index, layer in layer.parameters.map { ($0.value, $0.name, index) } }
        let state = layers.flatMap { index, layer in zip(layer.state, ["running mean", "running variance"]).map { ($0, $1, index) } }
        return parameters + state
    }

    /// One line saying where in the header JSON decoding failed and why.
    private static func headerProblem(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        let text: String
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?: text = "'\(path(context.codingPath + [key]))' is missing"
        case let .valueNotFound(_, context)?: text = "'\(path(context.codingPath))' is null"
        case let .dataCorrupted(context)? where context.underlyingError is SpecError: text = "\(context.underlyingError!)"
        case let .typeMismatch(_, context)?, let .dataCorrupted(context)?:
            text = (context.codingPath.isEmpty ? "" : "'\(path(context.codingPath))': ") + context.debugDescription
        default: text = "\(error)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Reads and decodes a model file.
    public static func load(path: String) throws(ModelFileError) -> (Model, (Checkpoint, [Float])?) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelFileError(file: path, "cannot be read") }
        return try decode(Array(data), name: path)
    }

    /// Rewrites the model file at `path` into `out` (which may be `path`) with `point` as its operating
    /// point: the same weights in the same precision, bit for bit, and the same header otherwise. The file
    /// is fully validated first (`decode`); a training checkpoint is refused.
    public static func setOperatingPoint(_ point: OperatingPoint?, path: String, out: String) throws(ModelFileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelFileError(file: path, "cannot be read") }
        let bytes = Array(data)
        let (model, checkpoint) = try decode(bytes, name: path)
        guard checkpoint == nil else { throw ModelFileError(file: path, "a training checkpoint, not a finished model") }
        if let problem = point?.problem { throw ModelFileError(file: path, problem) }
        // decode checked the header, so it decodes again.
        let header = try! JSONDecoder().decode(Header.self, from: Data(bytes[16 ..< 16 + Int(read32(bytes, 12))]))
        model.operatingPoint = point
        try save(encode(model, format: header.weights), to: out)
    }

    /// Writes atomically: a temporary file next to `path`, then a rename.
    public static func save(_ bytes: [UInt8], to path: String) throws(ModelFileError) {
        let temp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)), rename(temp, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temp)
            throw ModelFileError(file: path, "cannot be written")
        }
    }

    private static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }
    private static func read32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }
    private static func read16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
}

/// Why a model file could not be loaded or saved; `description` is one line naming the file.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}
