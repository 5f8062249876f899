import Testing
@testable import NeuralNetwork

@Suite("Architecture specs")
struct NetworkSpecTests {
    @Test func parsesAndPrintsCanonically() throws {
        let spec = try NetworkSpec(parsing: "input 48x40x3; conv 16 3x3 stride 2\n bn, relu, maxpool 3 stride 2, conv 8 1 pad 0, gap, dropout 0.25, dense classes")
        #expect(spec.input == Shape(3, 48, 40))
        #expect(spec.items[0] == .conv(filters: 16, kernel: 3, stride: 2, padding: 1))
        #expect(try NetworkSpec(parsing: spec.description) == spec)
        #expect(spec.resolved(classes: 5).items.last == .dense(units: 5))
    }

    @Test(arguments: ["conv 8 3x3, dense 2", "input 8x8, dense 2", "input 8x8x3, conv 8 3x5, dense 2",
                      "input 8x8x3, pool 2, dense 2", "input 8x8x3, conv 8 3x3", "input 4x4x3, maxpool 8, dense 2",
                      "input 8x8x3, dropout 1.5, dense 2", "input 8x8x3, conv 8 3x3 stride 0, dense 2"])
    func rejectsBadText(_ text: String) {
        #expect(throws: SpecError.self) { try NetworkSpec(parsing: text) }
    }

    @Test func seedPresetHasKerasParameterCount() {
        let net = Network(spec: NetworkSpec.preset("seed")!.resolved(classes: 2), seed: 0)
        #expect(net.parameterCount == 310_732)
        #expect(NetworkSpec.presets.allSatisfy { NetworkSpec.preset($0.name) != nil })
    }
}
