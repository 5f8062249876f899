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
    public enum Item: Equatable, Sendable {
        case conv(filters: Int, kernel: Int, stride: Int, padding: Int)
        case maxPool(size: Int, stride: Int)
        case batchNorm, relu, globalAveragePool
        case dropout(rate: Float)
        /// `units == nil` stands for the number of classes, fixed by `resolved(classes:)`.
        case dense(units: Int?)
    }

    public var input: Shape
    public var items: [Item]

    public init(input: Shape, items: [Item]) { self.input = input; self.items = items }

    /// Parses the text form; the error names the offending item.
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
                guard let r = Float(tokens[1]), r >= 0, r < 1 else { throw SpecError("'\(item)': rate must be in [0, 1)") }
                items.append(.dropout(rate: r))
            case "dense" where tokens.count == 2:
                items.append(.dense(units: tokens[1] == "classes" ? nil : try int(tokens[1])))
            default: throw SpecError("unknown layer '\(item)'")
            }
        }
        guard case .dense = items.last else { throw SpecError("the architecture must end with a dense layer") }
        _ = try shapes()
    }

    /// The canonical text form (parses back to an equal spec).
    public var description: String {
        var parts = ["input \(input.height)x\(input.width)x\(input.channels)"]
        for item in items {
            switch item {
            case let .conv(f, k, s, p):
                parts.append("conv \(f) \(k)x\(k)" + (s != 1 ? " stride \(s)" : "") + (p != k / 2 ? " pad \(p)" : ""))
            case let .maxPool(k, s): parts.append("maxpool \(k)" + (s != k ? " stride \(s)" : ""))
            case .batchNorm: parts.append("bn")
            case .relu: parts.append("relu")
            case .globalAveragePool: parts.append("gap")
            case let .dropout(r): parts.append("dropout \(r)")
            case let .dense(u): parts.append("dense \(u.map(String.init) ?? "classes")")
            }
        }
        return parts.joined(separator: ", ")
    }

    /// The spec with `dense classes` replaced by `dense <classes>`.
    public func resolved(classes: Int) -> NetworkSpec {
        NetworkSpec(input: input, items: items.map { if case .dense(nil) = $0 { return .dense(units: classes) } else { return $0 } })
    }

    /// The spec with its last (dense) layer set to `classes` units, for fine-tuning on other classes.
    public func withClasses(_ classes: Int) -> NetworkSpec {
        NetworkSpec(input: input, items: items.dropLast() + [.dense(units: classes)])
    }

    /// Output shape of every item, checking that each fits its input.
    public func shapes() throws(SpecError) -> [Shape] {
        var s = input, result: [Shape] = []
        for item in items {
            switch item {
            case let .conv(f, k, st, p):
                let h = (s.height + 2 * p - k) / st + 1, w = (s.width + 2 * p - k) / st + 1
                guard s.height + 2 * p >= k, s.width + 2 * p >= k else { throw SpecError("conv \(k)x\(k) does not fit \(s)") }
                s = Shape(f, h, w)
            case let .maxPool(k, st):
                guard s.height >= k, s.width >= k else { throw SpecError("maxpool \(k) does not fit \(s)") }
                s = Shape(s.channels, (s.height - k) / st + 1, (s.width - k) / st + 1)
            case .globalAveragePool: s = Shape(s.channels, 1, 1)
            case let .dense(u): s = Shape(u ?? 0, 1, 1)
            case .batchNorm, .relu, .dropout: break
            }
            result.append(s)
        }
        return result
    }

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
        do { try self.init(parsing: text) } catch { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description)) }
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
