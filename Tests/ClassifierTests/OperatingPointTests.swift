import Foundation
import Testing
@testable import Classifier
@testable import NeuralNetwork

@Suite("Operating point: stored rates and the Rogan–Gladen correction")
struct OperatingPointTests {
    static func point(_ se: Double = 0.9, _ sp: Double = 0.99, symmetries: Int = 1, threshold: Double = 0.5) -> OperatingPoint {
        OperatingPoint(symmetries: symmetries, threshold: threshold, sensitivity: se, specificity: sp, measuredOn: "test")
    }

    @Test func theCorrectionByHand() {
        let p = Self.point(0.9, 0.99)
        // (0.0109 + 0.99 − 1) / (0.9 + 0.99 − 1) = 0.0009 / 0.89
        #expect(abs(p.adjusted(0.0109) - 0.0009 / 0.89) < 1e-15)
        #expect(p.adjusted(0.005) == 0, "below the false-positive floor: clamped to 0")
        #expect(p.adjusted(1) == 1, "(1 − 0.01) / 0.89 > 1: clamped to 1")
        #expect(abs(Self.point(1, 1).adjusted(0.037) - 0.037) < 1e-15, "a perfect classifier changes nothing")
    }

    /// A classifier of sensitivity Se and specificity Sp calls Se·π + (1 − Sp)·(1 − π) of the cells
    /// positive at true prevalence π; the correction gives π back.
    @Test func theCorrectionInvertsTheExpectedCalls() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0 ..< 2000 {
            let se = 0.5 + 0.5 * Double(rng.uniform()), sp = 0.8 + 0.2 * Double(rng.uniform()), prevalence = Double(rng.uniform())
            guard se + sp > 1.01 else { continue }
            let called = se * prevalence + (1 - sp) * (1 - prevalence)
            #expect(abs(Self.point(se, sp).adjusted(called) - prevalence) < 1e-9, "Se \(se) Sp \(sp) π \(prevalence)")
        }
    }

    @Test func unusablePointsAreNamed() {
        #expect(Self.point().problem == nil)
        #expect(Self.point(symmetries: 3).problem == "operating point: symmetries 3 is not 1, 2, 4 or 8")
        #expect(Self.point(threshold: 0).problem == "operating point: threshold 0.0 is not in (0, 1]")
        #expect(Self.point(1.2, 0.9).problem == "operating point: sensitivity 1.2 or specificity 0.9 is not in [0, 1]")
        #expect(Self.point(0.4, 0.6).problem == "operating point: sensitivity 0.4 + specificity 0.6 is not above 1")
        var p = Self.point(); p.measuredOn = "two\nlines"
        #expect(p.problem == "operating point: measuredOn is longer than 300 characters or has a line break")
        var q = Self.point(); q.positives = 404
        #expect(q.problem == "operating point: positives and negatives must both be given, each at least 1")
        q.negatives = 0
        #expect(q.problem == "operating point: positives and negatives must both be given, each at least 1")
        q.negatives = 27220
        #expect(q.problem == nil)
    }

    /// The one symmetry rule: 1, 2, 4 or 8, and 1 unless the input is square.
    @Test func symmetryRule() {
        for n in [1, 2, 4, 8] { #expect(OperatingPoint.symmetryProblem(n, inputWidth: 48, inputHeight: 48) == nil) }
        for n in [0, 3, 16, -1] { #expect(OperatingPoint.symmetryProblem(n, inputWidth: 48, inputHeight: 48) == "symmetries \(n) is not 1, 2, 4 or 8") }
        #expect(OperatingPoint.symmetryProblem(1, inputWidth: 6, inputHeight: 8) == nil)
        #expect(OperatingPoint.symmetryProblem(8, inputWidth: 6, inputHeight: 8) == "8 symmetries need a square network input, not 6×8")
    }

    @Test func theModelFileKeepsItAndRefusesBadOnes() throws {
        let m = ModelFileTests().model()
        #expect(try ModelFile.decode(ModelFile.encode(m), name: "m").0.operatingPoint == nil, "a file without one loads as before")
        m.operatingPoint = Self.point(0.928, 0.997, symmetries: 4)
        let bytes = ModelFile.encode(m)
        #expect(try ModelFile.decode(bytes, name: "m").0.operatingPoint == m.operatingPoint)
        let t = ModelFileTests()
        #expect(t.message(t.patchHeader(bytes, "\"symmetries\":4", "\"symmetries\":5")) == "m.smnet: operating point: symmetries 5 is not 1, 2, 4 or 8")
        #expect(t.message(t.patchHeader(bytes, "\"specificity\":0.997", "\"specificity\":0.05"))
                == "m.smnet: operating point: sensitivity 0.928 + specificity 0.05 is not above 1")
        // Symmetries need a square input.
        let wide = Model(network: Network(spec: try NetworkSpec(parsing: "input 8x6x3, conv 4 3x3, relu, gap, dense 2"), seed: 1),
                         classNames: ["Parasitized", "Uninfected"], preprocessing: Preprocessing(fit: .stretch), operatingPoint: Self.point(symmetries: 2))
        #expect(t.message(ModelFile.encode(wide)) == "m.smnet: operating point: 2 symmetries need a square network input, not 6×8")
    }

    @Test func settingItKeepsEveryWeightBitForBit() throws {
        let dir = NSTemporaryDirectory() + "smear-op-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for format in [ModelFile.WeightFormat.float16, .float32] {
            let original = ModelFileTests().model(), path = dir + "/m-\(format).smnet", out = dir + "/c-\(format).smnet"
            original.training = ModelFileTests().record
            let bytes = ModelFile.encode(original, format: format)
            try ModelFile.save(bytes, to: path)
            try ModelFile.setOperatingPoint(Self.point(symmetries: 8), path: path, out: out)
            let (a, b) = (try ModelFile.load(path: path).0, try ModelFile.load(path: out).0)
            #expect(b.operatingPoint == Self.point(symmetries: 8) && b.training == a.training && b.classNames == a.classNames)
            for (x, y) in zip(a.tensors, b.tensors) { #expect(x.array.map(\.bitPattern) == y.array.map(\.bitPattern)) }
            // Removing it again gives the original file, byte for byte.
            try ModelFile.setOperatingPoint(nil, path: out, out: out)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: out))) == bytes)
        }
        #expect(throws: ModelFileError.self) { try ModelFile.setOperatingPoint(Self.point(0.4, 0.5), path: dir + "/m-float16.smnet", out: dir + "/x") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }

    /// cv.json as `smear cv` writes it, from generated out-of-fold predictions of two sources.
    static func cvJSON(symmetries: [Int] = [4]) throws -> (Data, [CrossValidation.Prediction]) {
        var rng = SeededGenerator(seed: 5)
        var predictions: [CrossValidation.Prediction] = []
        for i in 0 ..< 400 {
            let group = i % 2 == 0 ? "PA1717\(i % 10)" : "P\(i % 7)", label = Int(rng.next() % 2)
            let p = Float(min(1, max(0, (label == 0 ? 0.7 : 0.3) + 0.4 * (rng.uniform() - 0.5))))
            predictions.append(.init(path: "\(group)_\(i).png", group: group, label: label, probabilities: [p, 1 - p], fold: i % 3))
        }
        var summary = CrossValidation.summarize(predictions, classNames: ["Parasitized", "Uninfected"], positive: 0)
        summary.testTimeSymmetries = symmetries.map {
            CrossValidation.SymmetryFigures(symmetries: $0, summary: CrossValidation.summarize(predictions, classNames: ["Parasitized", "Uninfected"], positive: 0))
        }
        return (try smearJSON(summary), predictions)
    }

    @Test func readFromCrossValidationGivesTheTabulatedRates() throws {
        let (json, predictions) = try Self.cvJSON()
        let iml = predictions.filter { CrossValidation.source(ofGroup: $0.group) == "IML" }
        for (symmetries, threshold) in [(1, 0.5), (1, 0.7), (4, 0.5), (4, 0.35)] {
            let point = try OperatingPoint.read(crossValidation: json, name: "cv.json", source: "IML", symmetries: symmetries, threshold: threshold)
            let positives = iml.filter { $0.label == 0 }, negatives = iml.filter { $0.label == 1 }
            let se = Double(positives.filter { Double($0.probabilities[0]) >= threshold }.count) / Double(positives.count)
            let sp = Double(negatives.filter { Double($0.probabilities[0]) < threshold }.count) / Double(negatives.count)
            #expect(point.sensitivity == se && point.specificity == sp && point.symmetries == symmetries && point.threshold == threshold)
            #expect(point.measuredOn == "grouped 3-fold cross-validation, out-of-fold IML cells (\(iml.count), \(positives.count) parasitized)")
            #expect(point.positives == positives.count && point.negatives == negatives.count)
        }
        func error(_ source: String, _ symmetries: Int, _ threshold: Double, _ data: Data = json) -> String {
            do { _ = try OperatingPoint.read(crossValidation: data, name: "cv.json", source: source, symmetries: symmetries, threshold: threshold); return "read" }
            catch { return error.description }
        }
        #expect(error("Chula", 1, 0.5) == "cv.json: no images of source 'Chula'")
        #expect(error("IML", 8, 0.5) == "cv.json: no figures for 8 symmetries (smear cv measures 2, 4 and 8)")
        #expect(error("IML", 1, 0.52).hasPrefix("cv.json: threshold 0.52 is not in its table (0.05, 0.1, "))
        #expect(error("IML", 1, 0.5, Data("{\"folds\": 3}".utf8)) == "cv.json: not a cv.json written by smear cv")
    }
}
