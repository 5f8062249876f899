/// An optional report value that is written as `null` when absent. Synthesized `Encodable` leaves
/// nil properties out; report.json and validation.json promise every key, null where a figure has
/// no value, so their optional properties carry this wrapper.
@propertyWrapper
public struct NullEncoded<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}
