import ImageCodecs
import Testing
@testable import Classifier
@testable import NeuralNetwork

@Suite("Grad-CAM reads the feature maps of the last convolution")
struct GradCAMTests {
    /// The last convolution, or the last of the elementwise layers right after it; a pooling layer ends the
    /// run, and a network without convolutions has no feature layer.
    @Test(arguments: [
        ("input 16x16x3, conv 4 3x3, bn, relu, maxpool 2, conv 8 3x3, bn, relu, gap, dense 2", 6 as Int?),
        ("input 16x16x3, conv 4 3x3, relu, dropout 0.2, gap, dense 2", 2),
        ("input 16x16x3, conv 4 3x3, maxpool 2, relu, gap, dense 2", 0),
        ("input 4x4x3, dense 3, relu, dense 2", nil),
        ("cells", 12),
    ])
    func featureLayer(text: String, expected: Int?) throws {
        let spec = try (NetworkSpec.preset(text) ?? NetworkSpec(parsing: text)).resolved(classes: 2)
        #expect(GradCAM.featureLayer(Network(spec: spec, seed: 1)) == expected)
    }

    /// Dropout is the identity in inference: a network with dropout after its last block gives the same
    /// heatmap, to the bit, as the same weights without it, though Grad-CAM now reads the dropout's output.
    @Test func dropoutAfterTheLastBlockLeavesTheHeatmapAsItIs() throws {
        func classifier(_ text: String) throws -> CellClassifier {
            // The same seed draws the same weights: dropout has none.
            let network = Network(spec: try NetworkSpec(parsing: text), seed: 5)
            return CellClassifier(model: Model(network: network, classNames: ["Parasitized", "Uninfected"], preprocessing: Preprocessing()))
        }
        let plain = try classifier("input 16x16x3, conv 6 3x3, bn, relu, gap, dense 2")
        let dropped = try classifier("input 16x16x3, conv 6 3x3, bn, relu, dropout 0.5, gap, dense 2")
        #expect(GradCAM.featureLayer(dropped.model.network) == 3)
        let crop = try ImageCodecs.read(path: fixtureCells + "/Parasitized/C59P20thinF_IMG_20150803_111244_cell_165.png")
        let maps = (0 ..< 2).map { (plain.gradCAM(crop, classIndex: $0).heatmap, dropped.gradCAM(crop, classIndex: $0).heatmap) }
        for (a, b) in maps { #expect(a == b) }
        #expect(maps.contains { $0.0.max()! > 0 })  // not a vacuous comparison of empty maps
    }
}
