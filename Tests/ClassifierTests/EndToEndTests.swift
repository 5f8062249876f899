import Foundation
import ImageCodecs
import Testing
@testable import Classifier
@testable import NeuralNetwork

@Suite("Tiny train → save → load → classify on fixture cells")
struct EndToEndTests {
    @Test func trainSaveLoadClassifyAndGradCAM() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let spec = NetworkSpec.preset("tiny")!.resolved(classes: 2)
        let model = Model(network: Network(spec: spec, seed: 1), classNames: folder.classNames, preprocessing: Preprocessing())
        let train = try ImageSet(entries: folder.entries, preprocessing: model.preprocessing, width: 16, height: 16)
        let options = TrainingOptions(epochs: 60, batchSize: 17, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.02),
                                      warmupEpochs: 1, augmentation: .none, seed: 1)
        let trainer = Trainer(model: model, train: train, validation: train, options: options)
        var last: EpochSummary?
        while !trainer.finished { last = trainer.runEpoch { _ in } }
        #expect(last!.validation!.accuracy >= 0.9)  // a tiny net memorises 17 cells
        #expect(trainer.bestEpoch > 0)

        // Save, load, and classify the original crops through the library API.
        let path = NSTemporaryDirectory() + "/smear-e2e-\(getpid()).smnet"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelFile.save(ModelFile.encode(model, format: .float32), to: path)
        let classifier = try CellClassifier(contentsOf: path)
        #expect(classifier.positiveClassIndex == 0)
        let crops = try folder.entries.map { e throws(ImageError) in try ImageCodecs.read(path: e.path) }
        let p = classifier.probabilities(crops)
        let direct = trainer.predict(train)
        for (a, b) in zip(p, direct) { for (x, y) in zip(a, b) { #expect(abs(x - y) < 1e-4) } }
        let e = Evaluation(probabilities: p, labels: folder.entries.map(\.label), classNames: classifier.classNames)
        #expect(e.accuracy == last!.validation!.accuracy)

        let cam = classifier.gradCAM(crops[0], classIndex: 0)
        #expect(cam.width == crops[0].width && cam.height == crops[0].height)
        #expect(cam.heatmap.allSatisfy { $0 >= 0 && $0 <= 1 } && cam.heatmap.max()! > 0.99)
        #expect(cam.overlay(on: crops[0]).width == crops[0].width)
    }

    @Test func weightAverageIsValidatedThenTrainedWeightsComeBack() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let model = Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 2),
                          classNames: folder.classNames, preprocessing: Preprocessing())
        let set = try ImageSet(entries: folder.entries, preprocessing: model.preprocessing, width: 16, height: 16)
        let trainer = Trainer(model: model, train: set, validation: set,
                              options: TrainingOptions(epochs: 2, batchSize: 8, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.05),
                                                       seed: 3, averageDecay: 0.5))
        _ = trainer.runEpoch { _ in }
        let trained = model.tensors.flatMap(\.array)
        let averaged = trainer.withEvaluationWeights { model.network.parameters.flatMap(\.value.array) }
        #expect(averaged != Array(trained.prefix(averaged.count)))
        #expect(model.tensors.flatMap(\.array) == trained)
        let (state, moments) = trainer.checkpoint()
        #expect(state.moments == 3 * averaged.count && moments.suffix(averaged.count).elementsEqual(averaged))
    }

    @Test("the weight average warms up: a short run's average follows its training, a long one uses the decay")
    func weightAverageWarmsUp() throws {
        #expect(Trainer.averageDecay(0.999, step: 1) == Float(2) / 11)
        #expect(Trainer.averageDecay(0.999, step: 100) == Float(101) / 110)
        #expect(Trainer.averageDecay(0.999, step: 9_000) == 0.999 && Trainer.averageDecay(0.5, step: 1) == Float(2) / 11)
        #expect(Trainer.averageDecay(0.5, step: 50) == 0.5)
        let steps = (1...20_000).map { Trainer.averageDecay(0.999, step: $0) }
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $0 <= $1 }, "never decreases")
        // One step of training: the average is 2/11 of the start and 9/11 of the trained weights.
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        let model = Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 2),
                          classNames: folder.classNames, preprocessing: Preprocessing())
        let set = try ImageSet(entries: folder.entries, preprocessing: model.preprocessing, width: 16, height: 16)
        let start = model.network.parameters.flatMap(\.value.array)
        let trainer = Trainer(model: model, train: set, validation: nil,
                              options: TrainingOptions(epochs: 1, batchSize: 16, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.05),
                                                       seed: 3, averageDecay: 0.999))
        #expect(trainer.stepsPerEpoch == 1)
        _ = trainer.runEpoch { _ in }
        let trained = model.network.parameters.flatMap(\.value.array)
        let averaged = trainer.withEvaluationWeights { model.network.parameters.flatMap(\.value.array) }
        for (a, (s, w)) in zip(averaged, zip(start, trained)) { #expect(abs(a - (2 * s + 9 * w) / 11) < 1e-5) }
    }

    @Test func sameSeedSameModel() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        func run() throws -> [Float] {
            let model = Model(network: Network(spec: NetworkSpec.preset("tiny")!.resolved(classes: 2), seed: 4),
                              classNames: folder.classNames, preprocessing: Preprocessing())
            let set = try ImageSet(entries: folder.entries, preprocessing: model.preprocessing, width: 16, height: 16)
            let trainer = Trainer(model: model, train: set, validation: nil,
                                  options: TrainingOptions(epochs: 3, batchSize: 8, optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01), seed: 9))
            while !trainer.finished { _ = trainer.runEpoch { _ in } }
            return model.tensors.flatMap(\.array)
        }
        #expect(try run() == run())
    }
}
