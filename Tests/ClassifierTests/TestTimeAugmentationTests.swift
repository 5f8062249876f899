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
