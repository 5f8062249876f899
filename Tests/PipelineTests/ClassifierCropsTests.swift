import Classifier
import Foundation
import ImageCodecs
import Segmentation
import Testing
@testable import Pipeline

/// A model's crop context reaches every place that cuts cells for it: the calls, and the Grad-CAM
/// maps drawn over the cells' boxes.
@Suite struct ClassifierCropsTests {
    /// The bundled model's weights with `context` as its crop context.
    static func classifier(context: Float) throws -> CellClassifier {
        let model = try ModelFile.load(path: CellClassifier.bundledPath!).0
        model.preprocessing.context = context
        return CellClassifier(model: model, symmetries: 1)
    }

    @Test func callsComeFromCropsWithTheModelsRing() throws {
        let plain = try Self.classifier(context: 0), wide = try Self.classifier(context: 0.2)
        let (field, image) = try FieldAnalyzer(classifier: wide).analyze(path: AnalysisRunTests.iml[0])
        let counted = field.segmentation.objects.filter { $0.status == .counted }
        #expect(counted.count > 50)
        let ringed = wide.probabilities(counted.map { $0.crop(from: image, ring: $0.ring(context: 0.2)) })
        let alone = plain.probabilities(counted.map { $0.crop(from: image) })
        var changed = 0
        for (i, object) in counted.enumerated() {
            let p = field.calls[object.id]!.pParasitized
            #expect(abs(p - Double(ringed[i][0])) < 1e-6, "cell \(object.id)")
            if abs(p - Double(alone[i][0])) > 1e-3 { changed += 1 }
        }
        #expect(changed > counted.count / 2, "the ring changes the network's input, so most probabilities move")
    }

    @Test func heatmapsCoverTheBoxWithTheRingCutOff() throws {
        let image = try ImageCodecs.read(path: AnalysisRunTests.iml[0])
        let objects = try CellSegmenter().segment(image).objects.filter { $0.status == .counted }.prefix(5)
        for context: Float in [0, 0.2] {
            let classifier = try Self.classifier(context: context)
            for object in objects {
                let map = classifier.heatmap(of: object, in: image, classIndex: 0)
                #expect(map.count == object.width * object.height)
                let ring = object.ring(context: context)
                let crop = object.crop(from: image, ring: ring)
                #expect(classifier.crop(of: object, in: image) == crop)
                let full = classifier.gradCAM(crop, classIndex: 0).heatmap
                for y in 0 ..< object.height {
                    for x in 0 ..< object.width { #expect(map[y * object.width + x] == full[(y + ring) * crop.width + x + ring]) }
                }
            }
        }
    }
}
