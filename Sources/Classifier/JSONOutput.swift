import Foundation

/// `value` as the JSON smear writes (cv.json, compare.json): pretty-printed, snake_case keys sorted,
/// slashes unescaped, a final newline; non-finite numbers (e.g. a training curve's missing held-out
/// loss) as the strings "nan", "inf" and "-inf", since JSON has no such numbers.
public func smearJSON<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    var data = try encoder.encode(value)
    data.append(0x0A)
    return data
}
