import Foundation
import Testing
@testable import Classifier
@testable import NeuralNetwork

@Suite("Model file")
struct ModelFileTests {
    func model(_ spec: String = "input 8x8x3, conv 4 3x3, bn, relu, gap, dense 2", seed: UInt64 = 3) -> Model {
        let net = Network(spec: try! NetworkSpec(parsing: spec), seed: seed)
        let bn = net.layers[1] as! BatchNorm
        bn.runningMean.set([0.1, 0.2, 0.3, 0.4])
        return Model(network: net, classNames: ["Parasitized", "Uninfected"], preprocessing: Preprocessing(fit: .stretch))
    }

    /// Replaces `old` by `new` in the JSON header and fixes the lengths and checksum.
    func patchHeader(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let header = String(decoding: bytes[16 ..< 16 + length], as: UTF8.self).replacingOccurrences(of: old, with: new)
        #expect(header != String(decoding: bytes[16 ..< 16 + length], as: UTF8.self))
        var out = Array(bytes[0 ..< 12])
        withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { out += $0 }
        out += Array(header.utf8) + Array(bytes[(16 + length) ..< (bytes.count - 4)])
        withUnsafeBytes(of: CRC32.checksum(out).littleEndian) { out += $0 }
        return out
    }

    func message(_ bytes: [UInt8]) -> String {
        do { _ = try ModelFile.decode(bytes, name: "m.smnet"); return "loaded" } catch { return error.description }
    }

    @Test func roundTripFloat32IsExactAndFloat16IsClose() throws {
        let m = model()
        for format in [ModelFile.WeightFormat.float32, .float16] {
            let (loaded, checkpoint) = try ModelFile.decode(ModelFile.encode(m, format: format), name: "m")
            #expect(checkpoint == nil)
            #expect(loaded.classNames == m.classNames && loaded.preprocessing == m.preprocessing)
            #expect(loaded.network.spec == m.network.spec)
            for (a, b) in zip(loaded.tensors, m.tensors) {
                for i in 0 ..< a.count {
                    if format == .float32 { #expect(a[i] == b[i]) } else { #expect(abs(a[i] - b[i]) <= 1e-3 * max(1, abs(b[i]))) }
                }
            }
        }
    }

    /// A crop context is stored only when set (a model without one keeps the header older versions
    /// read, and such headers load with context 0); a context outside [0, 0.5] is refused.
    @Test func cropContextIsStoredWhenSetAndChecked() throws {
        let plain = ModelFile.encode(model())
        #expect(!String(decoding: plain, as: UTF8.self).contains("context"))
        #expect(try ModelFile.decode(plain, name: "m").0.preprocessing.context == 0)
        let m = model()
        m.preprocessing.context = 0.125
        let bytes = ModelFile.encode(m)
        #expect(try ModelFile.decode(bytes, name: "m").0.preprocessing == Preprocessing(fit: .stretch, context: 0.125))
        #expect(message(patchHeader(bytes, "\"context\":0.125", "\"context\":0.75")) == "m.smnet: preprocessing context 0.75 is not in [0, 0.5]")
        #expect(message(patchHeader(bytes, "\"context\":0.125", "\"context\":-0.125")) == "m.smnet: preprocessing context -0.125 is not in [0, 0.5]")
        #expect(message(patchHeader(bytes, "\"context\":0.125", "\"context\":\"wide\"")).hasPrefix("m.smnet: invalid header"))
    }

    @Test func checkpointCarriesOptimizerState() throws {
        let m = model()
        let moments = (0 ..< 260).map { Float($0) / 7 }  // Adam: first and second moments of the 130 parameters
        let state = ModelFile.Checkpoint(settings: OptimizerSettings(kind: .adam, learningRate: 0.01), step: 7, epoch: 2,
                                         bestEpoch: 1, bestScore: 0.9, moments: moments.count)
        let (_, loaded) = try ModelFile.decode(ModelFile.encode(m, format: .float32, checkpoint: (state, moments)), name: "m")
        #expect(loaded?.0.step == 7 && loaded?.1 == moments)
    }

    @Test func rejectsTruncatedCorruptAndForeignFiles() {
        let bytes = ModelFile.encode(model())
        #expect(message(Array(bytes.prefix(bytes.count - 10))).contains("truncated"))
        #expect(message(Array(bytes.prefix(30))).contains("truncated"))
        #expect(message(Array(bytes.prefix(5))).contains("truncated"))
        #expect(message([]).contains("not a smear model file"))
        #expect(message(Array("hello, this is not a model file".utf8)).contains("not a smear model file"))
        var flipped = bytes
        flipped[bytes.count - 20] ^= 0x01  // inside the weights
        #expect(message(flipped).contains("checksum"))
        var flippedHeader = bytes
        flippedHeader[20] ^= 0x40  // inside the JSON header
        #expect(message(flippedHeader).contains("checksum") || message(flippedHeader).contains("corrupt"))
        #expect(message(bytes + [0]).contains("trailing"))
    }

    @Test func rejectsOtherVersions() {
        var bytes = ModelFile.encode(model())
        bytes[8] = 9
        #expect(message(bytes) == "m.smnet: model file version 9 is not supported (this smear reads version 1)")
    }

    @Test func rejectsArchitectureThatDoesNotMatchTheWeights() {
        let bytes = ModelFile.encode(model())
        #expect(message(patchHeader(bytes, "conv 4 3x3", "conv 5 3x3"))
                == "m.smnet: architecture and weights disagree: the architecture needs 172 values, the file holds 138")
        #expect(message(patchHeader(bytes, "\"Uninfected\"", "\"Uninfected\",\"Other\"")) == "m.smnet: 3 class names but the architecture has 2 outputs")
        #expect(message(patchHeader(bytes, ",\"Uninfected\"", "")) == "m.smnet: 1 class names but the architecture has 2 outputs")
        #expect(message(patchHeader(bytes, "\"values\":", "\"values\":9000000000000000000,\"x\":")) == "m.smnet: invalid header: impossible value counts")
    }

    @Test func savesAtomically() throws {
        let path = NSTemporaryDirectory() + "/smear-model-\(getpid()).smnet"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelFile.save(ModelFile.encode(model()), to: path)
        #expect(try ModelFile.load(path: path).0.classNames == ["Parasitized", "Uninfected"])
        #expect(throws: ModelFileError.self) { try ModelFile.load(path: path + ".missing") }
    }
}
