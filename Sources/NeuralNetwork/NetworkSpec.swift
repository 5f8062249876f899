/// A sequential architecture in a short readable text form, stored verbatim in model files.
///
/// Items are separated by commas, semicolons or new lines; the first is the input:
/// ```
/// input 48x48x3, conv 16 3x3, bn, relu, maxpool 2, conv 32 3x3 stride 2 pad 1, gap, dropout 0.2, dense classes
/// ```
/// - `input HxWxC` — network input (height × width × channels).
/// - `conv F KxK [stride S] [pad P]` — F filters, K×K kernel, stride 1 and "same" padding ⌊K/2⌋ by default.
/// - `maxpool K [stride S]` — K×K max pooling, stride K by default.
/// - `bn` batch normalisation, `relu`, `dropout R` (drop rate R), `gap` global average pooling.
/// - `dense N` — N units; `dense classes` — as many units as the data set has classes (the last layer).
public struct NetworkSpec: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Item: Equatable, Sendable, CustomStringConvertible {
        case conv(filters: Int, kernel: Int, stride: Int, padding: Int)
        case maxPool(size: Int, stride: Int)
        case batchNorm, relu, globalAveragePool
        case dropout(rate: Float)
        /// `units == nil` stands for the number of classes, fixed by `resolved(classes:)`.
        case dense(units: Int?)

        /// The item's canonical text, e.g. `conv 16 3x3 stride 2` (options only where not the default).
        public var description: String {
            switch self {
            case let .conv(f, k, s, p): "conv \(f) \(k)x\(k)" + (s != 1 ? " stride \(s)" : "") + (p != k / 2 ? " pad \(p)" : "")
            case let .maxPool(k, s): "maxpool \(k)" + (s != k ? " stride \(s)" : "")
            case .batchNorm: "bn"
            case .relu: "relu"
            case .globalAveragePool: "gap"
            case let .dropout(r): "dropout \(r)"
            case let .dense(u): "dense \(u.map(String.init) ?? "classes")"
            }
        }
    }

    /// The largest architecture smear accepts. With every item's numbers within these limits, each size
    /// computed from a spec (shapes, values, floats per sample) stays below 2⁵³, so no arithmetic on
    /// them can overflow, and what building and running the network allocates is bounded. `size()`
    /// enforces them, so `init(parsing:)` rejects a text outside them, whether a user gave it to
    /// `smear train --arch` or it was read from a model file.
    public enum Limits {
        /// Layers after the input.
        public static let layers = 256
        /// Input height and width, in pixels.
        public static let inputSide = 512
        /// Input channels.
        public static let inputChannels = 4
        /// Convolution filters and dense units.
        public static let width = 4096
        /// Kernel side of convolutions and max pooling, and their strides. Padding is at most kernel − 1.
        public static let kernel = 31
        /// Floats one sample needs in training, 2²⁴ = 16,777,216 (64 MB): every layer's output plus every
        /// convolution's unfolded input (`inC·k²·Ho·Wo`, kept for backward).
        public static let floatsPerSample = 1 << 24
        /// Stored values (parameters plus BatchNorm running statistics), 2²⁵ = 33,554,432 (a 64 MB float16
        /// model file).
        public static let values = 1 << 25
    }

    public var input: Shape
    public var items: [Item]

    /// A spec as given, unchecked: `size()` checks it.
    public init(input: Shape, items: [Item]) { self.input = input; self.items = items }

    /// Parses the text form and checks it with `size()`: every item must fit its input and the network
    /// must stay within `Limits`. The error names the offending item.
    public init(parsing text: String) throws(SpecError) {
        let parts = text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "\n" })
            .map { $0.split(separator: " ").map(String.init) }.filter { !$0.isEmpty }
        guard let first = parts.first, first.count == 2, first[0] == "input" else {
            throw SpecError("the architecture must start with 'input HxWxC'")
        }
        let dims = first[1].split(separator: "x").compactMap { Int($0) }
        guard dims.count == 3, dims.allSatisfy({ $0 > 0 }) else { throw SpecError("bad input size '\(first[1])', expected HxWxC") }
        input = Shape(dims[2], dims[0], dims[1])
        items = []
        for tokens in parts.dropFirst() {
            let item = tokens.joined(separator: " ")
            func int(_ s: String, minimum: Int = 1) throws(SpecError) -> Int {
                guard let v = Int(s), v >= minimum else { throw SpecError("bad number '\(s)' in '\(item)'") }
                return v
            }
            func options(_ from: Int) throws(SpecError) -> [String: Int] {
                var result: [String: Int] = [:]
                var i = from
                while i < tokens.count {
                    guard i + 1 < tokens.count, tokens[i] == "stride" || tokens[i] == "pad" else { throw SpecError("unexpected '\(tokens[i])' in '\(item)'") }
                    result[tokens[i]] = try int(tokens[i + 1], minimum: tokens[i] == "pad" ? 0 : 1)
                    i += 2
                }
                return result
            }
            switch tokens[0] {
            case "conv":
                guard tokens.count >= 3 else { throw SpecError("'\(item)': expected 'conv FILTERS KxK'") }
                let k = tokens[2].split(separator: "x").map(String.init)
                guard k.count == 1 || (k.count == 2 && k[0] == k[1]) else { throw SpecError("'\(item)': only square kernels") }
                let kernel = try int(k[0]), opts = try options(3)
                items.append(.conv(filters: try int(tokens[1]), kernel: kernel, stride: opts["stride"] ?? 1, padding: opts["pad"] ?? kernel / 2))
            case "maxpool":
                guard tokens.count >= 2 else { throw SpecError("'\(item)': expected 'maxpool K'") }
                let size = try int(tokens[1]), opts = try options(2)
                guard opts["pad"] == nil else { throw SpecError("'\(item)': max pooling has no padding") }
                items.append(.maxPool(size: size, stride: opts["stride"] ?? size))
            case "bn" where tokens.count == 1: items.append(.batchNorm)
            case "relu" where tokens.count == 1: items.append(.relu)
            case "gap" where tokens.count == 1: items.append(.globalAveragePool)
            case "dropout" where tokens.count == 2:
                guard let r = Float(tokens[1]) else { throw SpecError("bad number '\(tokens[1])' in '\(item)'") }
                items.append(.dropout(rate: r))
            case "dense" where tokens.count == 2:
                items.append(.dense(units: tokens[1] == "classes" ? nil : try int(tokens[1])))
            default: throw SpecError("unknown layer '\(item)'")
            }
        }
        guard case .dense = items.last else { throw SpecError("the architecture must end with a dense layer") }
        _ = try size()
    }

    /// The canonical text form (parses back to an equal spec).
    public var description: String {
        (["input \(input.height)x\(input.width)x\(input.channels)"] + items.map(\.description)).joined(separator: ", ")
    }

    /// The spec with `dense classes` replaced by `dense <classes>`.
    public func resolved(classes: Int) -> NetworkSpec {
        NetworkSpec(input: input, items: items.map { if case .dense(nil) = $0 { return .dense(units: classes) } else { return $0 } })
    }

    /// The spec with its last (dense) layer set to `classes` units, for fine-tuning on other classes.
    public func withClasses(_ classes: Int) -> NetworkSpec {
        NetworkSpec(input: input, items: items.dropLast() + [.dense(units: classes)])
    }

    /// What a spec needs, from its numbers alone (nothing is allocated): the output shape of every item,
    /// the values of the network built from it (`parameters` as in `Network.parameters`, `statistics` the
    /// BatchNorm running means and variances of `Network.state`) and the floats one training sample needs
    /// (see `Limits.floatsPerSample`). `dense classes` counts as 2 units, the fewest classes a data set has.
    public struct Size: Equatable, Sendable {
        public var shapes: [Shape]
        public var parameters: Int, statistics: Int
        public var floatsPerSample: Int
        /// Values stored in a model file: parameters plus statistics.
        public var values: Int { parameters + statistics }
    }

    /// The size of the network, checking that every item fits its input and that everything is within
    /// `Limits`; the error names the first item that is not. Cost: O(items).
    public func size() throws(SpecError) -> Size {
        guard items.count <= Limits.layers else { throw SpecError("more than \(Limits.layers) layers") }
        guard (1 ... Limits.inputSide).contains(input.height), (1 ... Limits.inputSide).contains(input.width),
              (1 ... Limits.inputChannels).contains(input.channels) else {
            throw SpecError("input \(input.height)x\(input.width)x\(input.channels) is outside 1x1x1 to \(Limits.inputSide)x\(Limits.inputSide)x\(Limits.inputChannels)")
        }
        // Every factor below is within the limits before it is used (s.count ≤ 2²⁴ holds for the input and
        // is checked after each item), so no product or sum exceeds 2⁵³.
        var s = input, size = Size(shapes: [], parameters: 0, statistics: 0, floatsPerSample: input.count)
        for item in items {
            func check(_ ok: Bool, _ what: String) throws(SpecError) { if !ok { throw SpecError("'\(item)': \(what)") } }
            switch item {
            case let .conv(f, k, st, p):
                try check((1 ... Limits.width).contains(f), "filters must be 1 to \(Limits.width)")
                try check((1 ... Limits.kernel).contains(k), "kernel must be 1 to \(Limits.kernel)")
                try check((1 ... Limits.kernel).contains(st), "stride must be 1 to \(Limits.kernel)")
                try check((0 ..< k).contains(p), "padding must be 0 to \(k - 1)")
                try check(s.height + 2 * p >= k && s.width + 2 * p >= k, "does not fit \(s)")
                let out = Shape(f, (s.height + 2 * p - k) / st + 1, (s.width + 2 * p - k) / st + 1)
                size.parameters += f * s.channels * k * k + f
                size.floatsPerSample += s.channels * k * k * out.height * out.width
                s = out
            case let .maxPool(k, st):
                try check((1 ... Limits.kernel).contains(k), "size must be 1 to \(Limits.kernel)")
                try check((1 ... Limits.kernel).contains(st), "stride must be 1 to \(Limits.kernel)")
                try check(s.height >= k && s.width >= k, "does not fit \(s)")
                s = Shape(s.channels, (s.height - k) / st + 1, (s.width - k) / st + 1)
            case let .dropout(r): try check(r >= 0 && r < 1, "rate must be in [0, 1)")
            case let .dense(u):
                let units = u ?? 2
                try check((1 ... Limits.width).contains(units), "units must be 1 to \(Limits.width)")
                size.parameters += units * s.count + units
                s = Shape(units, 1, 1)
            case .batchNorm:
                size.parameters += 2 * s.channels
                size.statistics += 2 * s.channels
            case .globalAveragePool: s = Shape(s.channels, 1, 1)
            case .relu: break
            }
            size.floatsPerSample += s.count
            try check(size.floatsPerSample <= Limits.floatsPerSample,
                      "the network would need more than \(Limits.floatsPerSample) floats per sample")
            try check(size.values <= Limits.values, "the network would hold more than \(Limits.values) values")
            size.shapes.append(s)
        }
        return size
    }

    /// Output shape of every item (see `size()`, which also checks the limits).
    public func shapes() throws(SpecError) -> [Shape] { try size().shapes }

    /// Multiply-adds ×2 of one forward pass per sample (convolutions and dense layers).
    public var flopsPerSample: Int {
        guard let shapes = try? shapes() else { return 0 }
        var s = input, total = 0
        for (item, out) in zip(items, shapes) {
            switch item {
            case let .conv(_, k, _, _): total += 2 * out.count * s.channels * k * k
            case .dense: total += 2 * out.count * s.count
            default: break
            }
            s = out
        }
        return total
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Named architectures, selectable with `smear train --arch NAME`.
    public static let presets: [(name: String, about: String, spec: String)] = [
        ("cells", "the bundled malaria cell model: 48×48 input, four conv–BN–ReLU blocks (two strided), global pooling; 8.8 MFLOP",
         "input 48x48x3, conv 16 3x3 stride 2, bn, relu, conv 32 3x3 stride 2, bn, relu, conv 48 3x3, bn, relu, maxpool 2, conv 96 3x3, bn, relu, gap, dropout 0.2, dense classes"),
        ("seed", "the Keras seed CNN (310,732 parameters with 2 classes), for speed comparisons",
         "input 50x50x3, conv 32 3x3, relu, maxpool 2, bn, conv 64 3x3, relu, maxpool 2, bn, conv 64 3x3, relu, maxpool 2, bn, dense 110, relu, dense classes"),
        ("tiny", "a few thousand parameters on 16×16 inputs, for tests and smoke runs",
         "input 16x16x3, conv 8 3x3 stride 2, bn, relu, conv 16 3x3, bn, relu, gap, dense classes"),
    ]

    /// The preset called `name`, if any.
    public static func preset(_ name: String) -> NetworkSpec? {
        presets.first { $0.name == name }.map { try! NetworkSpec(parsing: $0.spec) }
    }
}

/// Why an architecture text was rejected; one line.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ message: String) { description = "architecture: \(message)" }
}
