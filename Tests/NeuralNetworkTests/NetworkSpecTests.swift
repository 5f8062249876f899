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

    /// Each limit of `NetworkSpec.Limits`, one past it, with its exact message.
    @Test(arguments: [
        ("input 513x8x3, dense 2", "input 513x8x3 is outside 1x1x1 to 512x512x4"),
        ("input 8x8x5, dense 2", "input 8x8x5 is outside 1x1x1 to 512x512x4"),
        ("input 8x8x3, conv 4097 3x3, dense 2", "'conv 4097 3x3': filters must be 1 to 4096"),
        ("input 8x8x3, conv 9223372036854775807 3x3, dense 2", "'conv 9223372036854775807 3x3': filters must be 1 to 4096"),
        ("input 8x8x3, conv 8 9223372036854775808x9223372036854775808, dense 2",
         "bad number '9223372036854775808' in 'conv 8 9223372036854775808x9223372036854775808'"),
        ("input 64x64x3, conv 4 33x33, dense 2", "'conv 4 33x33': kernel must be 1 to 31"),
        ("input 64x64x3, conv 4 3x3 stride 32, dense 2", "'conv 4 3x3 stride 32': stride must be 1 to 31"),
        ("input 8x8x3, conv 4 3x3 pad 3, dense 2", "'conv 4 3x3 pad 3': padding must be 0 to 2"),
        ("input 64x64x3, maxpool 32, dense 2", "'maxpool 32': size must be 1 to 31"),
        ("input 64x64x3, maxpool 2 stride 32, dense 2", "'maxpool 2 stride 32': stride must be 1 to 31"),
        ("input 8x8x3, dense 4097", "'dense 4097': units must be 1 to 4096"),
        ("input 8x8x3, dropout nan, dense 2", "'dropout nan': rate must be in [0, 1)"),
        ("input 8x8x3, dropout 1, dense 2", "'dropout 1.0': rate must be in [0, 1)"),
        ("input 8x8x3, " + String(repeating: "relu, ", count: 256) + "dense 2", "more than 256 layers"),
        ("input 512x512x4, conv 64 3x3, dense 2", "'conv 64 3x3': the network would need more than 16777216 floats per sample"),
        ("input 64x64x3, conv 16 3x3, dense 4096", "'dense 4096': the network would hold more than 33554432 values"),
    ])
    func rejectsSpecsBeyondTheLimits(text: String, message: String) {
        #expect(throws: SpecError(message)) { try NetworkSpec(parsing: text) }
    }

    /// At the limits: accepted, and `size()` counts what the network then holds.
    @Test(arguments: ["input 512x512x4, conv 4 31x31 stride 31 pad 30, maxpool 2 stride 31, dense 4096",
                      "input 1x1x1, conv 4096 1x1, dense 4096",
                      "input 8x8x3, " + String(repeating: "relu, ", count: 255) + "dense 2",
                      "input 12x12x3, conv 6 3x3, relu, maxpool 2, bn, conv 8 3x3 stride 2, bn, relu, dropout 0.2, dense 5, relu, dense 3"]
              + NetworkSpec.presets.map(\.spec))
    func sizeCountsWhatTheNetworkHolds(text: String) throws {
        let spec = try NetworkSpec(parsing: text).resolved(classes: 2)
        let size = try spec.size()
        let net = Network(spec: spec, seed: 0)
        #expect(size.shapes == net.layers.map(\.outputShape))
        #expect(size.parameters == net.parameters.reduce(0) { $0 + $1.value.count })
        #expect(size.statistics == net.state.reduce(0) { $0 + $1.count })
        #expect(size.values == net.parameterCount)
        #expect(size.floatsPerSample <= NetworkSpec.Limits.floatsPerSample && size.values <= NetworkSpec.Limits.values)
    }

    @Test func seedPresetHasKerasParameterCount() {
        let net = Network(spec: NetworkSpec.preset("seed")!.resolved(classes: 2), seed: 0)
        #expect(net.parameterCount == 310_732)
        #expect(NetworkSpec.presets.allSatisfy { NetworkSpec.preset($0.name) != nil })
    }
}
