import Foundation
import ImageCodecs
import Testing
@testable import Classifier
@testable import NeuralNetwork

/// Model files that are well formed (valid checksum) but must not load: each is rejected with one line.
/// The test model (`model()`) stores 138 values in this order: conv weight 0–107, conv bias 108–111,
/// BatchNorm γ 112–115 and β 116–119, dense weight 120–127 and bias 128–129, running mean 130–133,
/// running variance 134–137.
extension ModelFileTests {
    /// `bytes` with the CRC-32 at the end recomputed.
    func withChecksum(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes.dropLast(4))
        withUnsafeBytes(of: CRC32.checksum(out).littleEndian) { out += $0 }
        return out
    }

    /// `bytes` with stored value `index` set to `value` in the file's `format`, checksum fixed.
    func setting(_ bytes: [UInt8], value index: Int, to value: Float, format: ModelFile.WeightFormat) -> [UInt8] {
        let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let width = format == .float16 ? 2 : 4, offset = 16 + length + index * width
        var out = bytes
        switch format {
        case .float16: withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { out.replaceSubrange(offset ..< offset + 2, with: $0) }
        case .float32: withUnsafeBytes(of: value.bitPattern.littleEndian) { out.replaceSubrange(offset ..< offset + 4, with: $0) }
        }
        return withChecksum(out)
    }

    var record: TrainingRecord {
        TrainingRecord(dataset: "cells", groupPattern: "^(C\\d+)", validationFraction: 0.25, seed: 1, trainImages: 10,
                       validationImages: 5, trainGroups: 2, validationGroups: 1, optimizer: "adam", batchSize: 4, epochs: 3,
                       bestEpoch: 2, validationAccuracy: 0.75, validationAUC: 0.5, validationLoss: 0.625, initialisedFrom: nil,
                       command: "smear train", seconds: 12.5)
    }

    /// The test model with a training record and an Adam checkpoint (260 moments), as float32.
    func checkpointFile(moments: [Float] = (0 ..< 260).map { Float($0) / 100 }) -> [UInt8] {
        let m = model()
        m.training = record
        let state = ModelFile.Checkpoint(settings: OptimizerSettings(kind: .adam, learningRate: 0.01), step: 7, epoch: 2,
                                         bestEpoch: 1, bestScore: 0.75, moments: moments.count)
        return ModelFile.encode(m, format: .float32, checkpoint: (state, moments))
    }

    /// A crop of `width × height` pixels, all `value`.
    func crop(_ width: Int, _ height: Int, _ value: UInt8) -> RGBImage {
        RGBImage(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height * 3))
    }

    @Test func rejectsDuplicateEmptyAndControlClassNames() {
        let bytes = ModelFile.encode(model())
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"Parasitized\"")) == "m.smnet: class name 'Parasitized' appears twice")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"parasitized\""))
                == "m.smnet: class names 'Parasitized' and 'parasitized' are the same ignoring case")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"PARASITIZED\""))
                == "m.smnet: class names 'Parasitized' and 'PARASITIZED' are the same ignoring case")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"\"")) == "m.smnet: a class name is empty")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"Un\\ninfected\""))
                == "m.smnet: class name 'Un\\ninfected' contains a control character or line break")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"Un\u{2028}in\\u001bfected\""))
                == "m.smnet: class name 'Un\\u{2028}in\\u{1B}fected' contains a control character or line break")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"" + String(repeating: "x", count: 101) + "\""))
                == "m.smnet: class name 'xxxxxxxxxxxxxxxxxxxx…' is longer than 100 characters")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"" + String(repeating: "x", count: 100) + "\"")) == "loaded")
    }

    @Test func rejectsLayersBeyondTheLimitsBeforeBuildingThem() {
        let bytes = ModelFile.encode(model())
        #expect(message(patchHeader(bytes, "conv 4 3x3", "conv 9223372036854775808 3x3"))
                == "m.smnet: invalid header: architecture: bad number '9223372036854775808' in 'conv 9223372036854775808 3x3'")
        #expect(message(patchHeader(bytes, "conv 4 3x3", "conv 9223372036854775807 3x3"))
                == "m.smnet: invalid header: architecture: 'conv 9223372036854775807 3x3': filters must be 1 to 4096")
        #expect(message(patchHeader(bytes, "conv 4 3x3", "conv 2147483648 3x3"))
                == "m.smnet: invalid header: architecture: 'conv 2147483648 3x3': filters must be 1 to 4096")
        #expect(message(patchHeader(bytes, "dense 2", "dense 2147483648"))
                == "m.smnet: invalid header: architecture: 'dense 2147483648': units must be 1 to 4096")
        #expect(message(patchHeader(bytes, "input 8x8x3", "input 100000x100000x3"))
                == "m.smnet: invalid header: architecture: input 100000x100000x3 is outside 1x1x1 to 512x512x4")
        #expect(message(patchHeader(bytes, "conv 4 3x3", "conv 4 33x33"))
                == "m.smnet: invalid header: architecture: 'conv 4 33x33': kernel must be 1 to 31")
        #expect(message(patchHeader(bytes, "input 8x8x3", "input 8x8x1"))
                == "m.smnet: the network input has 1 channels; crops are RGB (3)")
        #expect(message(patchHeader(bytes, "dense 2", "dense classes")) == "m.smnet: architecture has unresolved 'dense classes'")
    }

    @Test func rejectsNegativeAndOverflowingHeaderNumbers() {
        let bytes = ModelFile.encode(model())
        #expect(message(patchHeader(bytes, "\"values\":138", "\"values\":-1")) == "m.smnet: invalid header: impossible value counts")
        #expect(message(patchHeader(bytes, "\"values\":138", "\"values\":99999999999999999999"))
                == "m.smnet: invalid header: The given data was not valid JSON.")
        #expect(message(patchHeader(bytes, "\"scale\":0.003921569", "\"scale\":-1")) == "m.smnet: preprocessing scale -1.0 is not in (0, 1]")
        #expect(message(patchHeader(bytes, "\"scale\":0.003921569", "\"scale\":0")) == "m.smnet: preprocessing scale 0.0 is not in (0, 1]")
        #expect(message(patchHeader(bytes, "\"scale\":0.003921569", "\"scale\":1e39"))
                == "m.smnet: invalid header: The given data was not valid JSON.")  // Foundation's words for a number out of range
        #expect(message(patchHeader(bytes, "\"values\":138", "\"values\":\"138\""))
                == "m.smnet: invalid header: 'values': Expected to decode Int but found a string instead.")
        #expect(message(patchHeader(bytes, "\"values\":138,", "")) == "m.smnet: invalid header: 'values' is missing")

        let file = checkpointFile()
        #expect(message(file) == "loaded")
        for (old, new, expected) in [
            ("\"step\":7", "\"step\":-1", "checkpoint: negative step or epoch"),
            ("\"epoch\":2", "\"epoch\":-9223372036854775808", "checkpoint: negative step or epoch"),
            ("\"bestEpoch\":1", "\"bestEpoch\":3", "checkpoint: bestEpoch 3 is not in 0...epoch (2)"),
            ("\"moments\":260", "\"moments\":-4", "invalid header: impossible value counts"),
            ("\"moments\":260", "\"moments\":130", "corrupt (520 unexpected trailing bytes)"),
            ("\"momentum\":0.9", "\"momentum\":1", "checkpoint: momentum 1.0 is not in [0, 1)"),
            ("\"learningRate\":0.01", "\"learningRate\":-0.01", "checkpoint: learning rate -0.01 is not a finite value ≥ 0"),
            ("\"epsilon\":1e-07", "\"epsilon\":0", "checkpoint: epsilon 0.0 is not a finite value > 0"),
            ("\"batchSize\":4", "\"batchSize\":0", "training record: batchSize 0 is below 1"),
            ("\"trainImages\":10", "\"trainImages\":-10", "training record: a negative image or group count"),
            ("\"validationFraction\":0.25", "\"validationFraction\":1e308", "training record: validationFraction 1e+308 is not in [0, 1]"),
            ("\"bestEpoch\":2", "\"bestEpoch\":4", "training record: bestEpoch 4 is not in 1...epochs (3)"),
            ("\"validationLoss\":0.625", "\"validationLoss\":-1", "training record: validationLoss -1.0 is not a finite value ≥ 0"),
        ] {
            #expect(message(patchHeader(file, old, new)) == "m.smnet: " + expected, "\(new)")
        }
    }

    @Test(arguments: [ModelFile.WeightFormat.float16, .float32])
    func rejectsNonFiniteWeightsAndStatistics(format: ModelFile.WeightFormat) {
        let bytes = ModelFile.encode(model(), format: format)
        #expect(message(setting(bytes, value: 0, to: 0.5, format: format)) == "loaded")
        #expect(message(setting(bytes, value: 0, to: .nan, format: format)) == "m.smnet: weight 0 of layer 1 (conv 4 3x3) is nan")
        #expect(message(setting(bytes, value: 17, to: .infinity, format: format)) == "m.smnet: weight 17 of layer 1 (conv 4 3x3) is inf")
        #expect(message(setting(bytes, value: 109, to: -.infinity, format: format)) == "m.smnet: bias 1 of layer 1 (conv 4 3x3) is -inf")
        #expect(message(setting(bytes, value: 113, to: .nan, format: format)) == "m.smnet: gamma 1 of layer 2 (bn) is nan")
        #expect(message(setting(bytes, value: 129, to: .nan, format: format)) == "m.smnet: bias 1 of layer 5 (dense 2) is nan")
        #expect(message(setting(bytes, value: 133, to: .infinity, format: format)) == "m.smnet: running mean 3 of layer 2 (bn) is inf")
        #expect(message(setting(bytes, value: 135, to: .nan, format: format)) == "m.smnet: running variance 1 of layer 2 (bn) is nan")
        #expect(message(setting(bytes, value: 135, to: -0.5, format: format)) == "m.smnet: running variance 1 of layer 2 (bn) is -0.5, below 0")
        #expect(message(setting(bytes, value: 135, to: 0, format: format)) == "loaded")
    }

    @Test func rejectsNonFiniteCheckpointMoments() {
        var moments = (0 ..< 260).map { Float($0) / 100 }
        moments[7] = .nan
        #expect(message(checkpointFile(moments: moments)) == "m.smnet: checkpoint: optimizer moment 7 is nan")
        moments[7] = 0
        moments[259] = -.infinity
        #expect(message(checkpointFile(moments: moments)) == "m.smnet: checkpoint: optimizer moment 259 is -inf")
        // Adam stores two moments per parameter, and the weight averages when training kept them.
        #expect(message(checkpointFile(moments: [Float](repeating: 0.5, count: 390))) == "loaded")
        #expect(message(checkpointFile(moments: [Float](repeating: 0.5, count: 130)))
                == "m.smnet: checkpoint: 130 optimizer moments for 130 parameters (adam stores 260 or 390)")
    }

    /// A network whose weights are the largest float16 (65504) overflows float32 on a white crop:
    /// each conv–BN pair multiplies by about 10¹³. Built in code it gives NaN; as a file it does not load.
    @Test func rejectsWeightsThatOverflowFloat32() throws {
        let spec = try NetworkSpec(parsing: "input 8x8x3, conv 16 3x3, bn, conv 16 3x3, bn, conv 16 3x3, bn, gap, dense 2")
        let net = Network(spec: spec, seed: 1)
        // Biases and β are 0, so a black crop gives 0 everywhere and a white one overflows.
        for p in net.parameters { p.value.pointer.update(repeating: p.name == "bias" || p.name == "beta" ? 0 : 65504, count: p.value.count) }
        for case let bn as BatchNorm in net.layers { bn.runningVariance.zero() }
        let huge = Model(network: net, classNames: ["Parasitized", "Uninfected"], preprocessing: Preprocessing())
        let classifier = CellClassifier(model: huge)
        #expect(classifier.probabilities([crop(8, 8, 255)])[0].allSatisfy { $0.isNaN })
        #expect(classifier.probabilities([crop(8, 8, 0)]) == [[0.5, 0.5]])
        #expect(throws: NonFiniteProbabilityError.self) { try classifier.checkedProbabilities([crop(8, 8, 0), crop(8, 8, 255)]) }
        do { _ = try classifier.checkedProbabilities([crop(8, 8, 0), crop(8, 8, 255)]) } catch {
            #expect(error.crop == 1)
            #expect(error.message(for: "cell.png") == "the model gives non-finite probabilities (nan, nan) for cell.png")
        }
        #expect(message(ModelFile.encode(huge, format: .float16))
                == "m.smnet: weights too large: values in the network can reach 1.4e+39, beyond float32 (3.4e+38)")

        // One float32 weight of 3·10³⁸ in the dense layer: finite, but its product with any activation above 1.2 is not.
        let bytes = ModelFile.encode(model(), format: .float32)
        #expect(message(setting(bytes, value: 120, to: 3e38, format: .float32))
                == "m.smnet: weights too large: values in the network can reach 1.83e+39, beyond float32 (3.4e+38)")
        #expect(message(setting(bytes, value: 120, to: 3e30, format: .float32)) == "loaded")
    }

    @Test func checkedProbabilitiesOfAGoodModelAreItsProbabilities() throws {
        let classifier = CellClassifier(model: model())
        let crops = [crop(8, 8, 0), crop(5, 9, 200), crop(30, 20, 255)]
        #expect(try classifier.checkedProbabilities(crops) == classifier.probabilities(crops))
    }

    @Test func bundledModelLoadsAndIsFarFromOverflow() throws {
        let path = try #require(CellClassifier.bundledPath)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let (model, checkpoint) = try ModelFile.decode(bytes, name: "cells.smnet")
        #expect(checkpoint == nil)
        // Loading is lossless: the same model written again is the same file.
        #expect(ModelFile.encode(model, format: .float16) == bytes)
        #expect(model.worstCaseMagnitude > 1e6 && model.worstCaseMagnitude < 1e8)  // 1.7·10⁷, float32 overflows at 3.4·10³⁸
    }

    /// Random single-byte changes to valid files, with the checksum recomputed: each file either loads into
    /// a model whose values are all finite and which gives finite probabilities, or is rejected with one
    /// line naming the file. A crash would end the test run.
    @Test func singleByteChangesLoadCleanlyOrFailWithOneLine() throws {
        let m = model()
        m.training = record
        let files = [ModelFile.encode(m, format: .float16), checkpointFile()]
        var rng = SeededGenerator(seed: 9)
        var loaded = 0, rejected = 0
        for iteration in 0 ..< 400 {
            var bytes = files[iteration % 2]
            let position = Int(rng.next() % UInt64(bytes.count - 4))
            bytes[position] ^= UInt8(1 + rng.next() % 255)
            bytes = withChecksum(bytes)
            do {
                let (model, state) = try ModelFile.decode(bytes, name: "m.smnet")
                loaded += 1
                #expect(model.tensors.allSatisfy { $0.array.allSatisfy(\.isFinite) }, "byte \(position)")
                #expect(state?.1.allSatisfy { $0.isFinite } ?? true, "byte \(position)")
                #expect(throws: Never.self, "byte \(position)") {
                    try CellClassifier(model: model).checkedProbabilities([crop(8, 8, 255), crop(7, 3, 0), crop(9, 9, 128)])
                }
            } catch {
                rejected += 1
                #expect(error.description.hasPrefix("m.smnet: ") && !error.description.contains(where: \.isNewline), "byte \(position): \(error)")
            }
        }
        #expect(loaded > 50 && rejected > 50, "\(loaded) loaded, \(rejected) rejected")
    }
}
