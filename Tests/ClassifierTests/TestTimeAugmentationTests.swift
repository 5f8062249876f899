import Foundation
import Testing
@testable import Classifier
@testable import NeuralNetwork

@Suite("Test-time augmentation: the symmetries of the square")
struct TestTimeAugmentationTests {
    /// A 5×5 image whose every pixel differs, so every symmetry moves it.
    static let side = 5
    static let image: [UInt8] = (0..<(side * side * 3)).map { UInt8($0 * 3 % 256) }

    static let scale = Preprocessing(fit: .pad).scale

    static func planar(_ pixels: [UInt8], symmetry: Int) -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { Augmentation.symmetric($0.baseAddress!, side: side, symmetry: symmetry, scale: scale, into: &out) }
        return out
    }

    /// Pixel (x, y) of channel 0 of a planar image.
    static func at(_ p: [Float], _ x: Int, _ y: Int) -> Float { p[y * side + x] }

    @Test func theEightSymmetriesAreTheDihedralGroup() {
        let outputs = (0..<8).map { Self.planar(Self.image, symmetry: $0) }
        #expect(Set(outputs.map { $0.map(\.bitPattern) }).count == 8, "eight different images")
        var plain = [Float](repeating: 0, count: Self.image.count)
        Self.image.withUnsafeBufferPointer { Preprocessing(fit: .pad).planar($0.baseAddress!, count: Self.side * Self.side, into: &plain) }
        #expect(outputs[0] == plain, "symmetry 0 is the plain input")
        let n = Self.side - 1
        for y in 0..<Self.side {
            for x in 0..<Self.side {
                #expect(Self.at(outputs[1], x, y) == Self.at(outputs[0], n - x, y), "1: horizontal flip")
                #expect(Self.at(outputs[2], x, y) == Self.at(outputs[0], x, n - y), "2: vertical flip")
                #expect(Self.at(outputs[3], x, y) == Self.at(outputs[0], n - x, n - y), "3: 180° rotation")
                #expect(Self.at(outputs[4], x, y) == Self.at(outputs[0], y, x), "4: transpose")
            }
        }
    }

    @Test("the mean over all 8 symmetries does not change when the input is flipped or rotated")
    func eightfoldAverageIsInvariant() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let set = try ImageSet(entries: folder.entries, preprocessing: Preprocessing(fit: .pad), width: 16, height: 16)
        let model = Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 3), classNames: folder.classNames,
                          preprocessing: Preprocessing(fit: .pad))
        let trainer = Trainer(model: model, train: set, validation: nil,
                              options: TrainingOptions(epochs: 1, batchSize: 4, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01, weightDecay: 0, momentum: 0.9)))
        _ = trainer.runEpoch { _ in }
        for symmetry in 1..<8 {
            // Every image of the set under one symmetry (interleaved RGB, by Augmentation.source).
            var moved = set
            for i in 0..<set.count {
                for y in 0..<16 {
                    for x in 0..<16 {
                        let (sx, sy) = Augmentation.source(x, y, side: 16, symmetry: symmetry)
                        for c in 0..<3 { moved.pixels[i * set.bytesPerImage + 3 * (y * 16 + x) + c] = set.pixels[i * set.bytesPerImage + 3 * (sy * 16 + sx) + c] }
                    }
                }
            }
            let a = trainer.predict(set, symmetries: 8), b = trainer.predict(moved, symmetries: 8)
            for (p, q) in zip(a, b) { #expect(abs(p[0] - q[0]) < 1e-4, "symmetry \(symmetry)") }
        }
        // One symmetry is the plain prediction; every average is a distribution.
        #expect(trainer.predict(set, symmetries: 1) == trainer.predict(set))
        for n in [2, 4, 8] {
            #expect(trainer.predict(set, symmetries: n).allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 && $0.allSatisfy { $0 >= 0 } })
        }
    }
}

@Suite("Test-time augmentation in the classifier")
struct ClassifierSymmetryTests {
    @Test("moving the planar input gives what moving the bytes gives")
    func planarSymmetryMatchesTheByteOne() {
        let side = TestTimeAugmentationTests.side, image = TestTimeAugmentationTests.image
        var plain = [Float](repeating: 0, count: image.count)
        image.withUnsafeBufferPointer { Preprocessing(fit: .pad).planar($0.baseAddress!, count: side * side, into: &plain) }
        for symmetry in 0..<8 {
            var moved = [Float](repeating: -1, count: plain.count)
            plain.withUnsafeBufferPointer { Augmentation.symmetric(planar: $0.baseAddress!, side: side, channels: 3, symmetry: symmetry, into: &moved) }
            #expect(moved == TestTimeAugmentationTests.planar(image, symmetry: symmetry), "symmetry \(symmetry)")
        }
    }

    /// `CellClassifier.probabilities` with n symmetries against `Trainer.predict(_:symmetries:)`, the
    /// reference that moves the 8-bit images: a crop whose plain output is confident keeps it, any other
    /// gets the reference's mean over n symmetries. More crops than one batch; the last layer is scaled
    /// up so that both kinds of crop occur.
    @Test func theClassifierAveragesTheDoubtfulCropsAsTheTrainerDoes() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let pre = Preprocessing(fit: .pad)
        let set = try ImageSet(entries: folder.entries, preprocessing: pre, width: 16, height: 16)
        let model = Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 3), classNames: folder.classNames,
                          preprocessing: pre)
        let trainer = Trainer(model: model, train: set, validation: nil,
                              options: TrainingOptions(epochs: 1, batchSize: 4, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01, weightDecay: 0, momentum: 0.9)))
        _ = trainer.runEpoch { _ in }
        // Sharpen the last layer until some plain outputs are confident and some are not.
        let dense = model.network.parameters.filter { $0.name == "weight" }.last!.value
        var plain = trainer.predict(set), confident = plain.map { $0.max()! >= CellClassifier.confident }
        for _ in 0 ..< 40 where !(confident.contains(true) && confident.contains(false)) {
            for i in 0 ..< dense.count { dense[i] *= 1.5 }
            plain = trainer.predict(set); confident = plain.map { $0.max()! >= CellClassifier.confident }
        }
        // The set's images are already 16×16, so the classifier's preprocessing leaves them as they are.
        let indices = (0..<300).map { $0 % set.count }
        let crops = indices.map { set.image($0) }
        try #require(confident.contains(true) && confident.contains(false), "both kinds of crop: \(plain.map { $0[0] })")
        for n in [1, 2, 4, 8] {
            let reference = trainer.predict(set, symmetries: n)
            let got = CellClassifier(model: model, symmetries: n).probabilities(crops)
            for (i, row) in zip(indices, got) {
                let expected = confident[i] ? plain[i] : reference[i]
                #expect(zip(row, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(n) symmetries, image \(i)")
            }
        }
        // The model's operating point sets the default; without one it is 1.
        #expect(CellClassifier(model: model).symmetries == 1)
        model.operatingPoint = OperatingPoint(symmetries: 4, threshold: 0.6, sensitivity: 0.9, specificity: 0.99, measuredOn: "test")
        let classifier = CellClassifier(model: model)
        #expect(classifier.symmetries == 4 && classifier.threshold(nil) == 0.6 && classifier.threshold(0.5) == 0.5)
        #expect(classifier.operatingPoint(at: 0.6) == model.operatingPoint)
        #expect(classifier.operatingPoint(at: 0.5) == nil, "another threshold: the rates do not hold")
        #expect(classifier.with(symmetries: 2).operatingPoint(at: 0.6) == nil, "other symmetries: the rates do not hold")
    }
}
