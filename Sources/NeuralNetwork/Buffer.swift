/// A fixed-size block of `Float32` owned by a layer, a parameter or a network.
///
/// Raw memory (no copy-on-write, no bounds checks) so that hot loops and BLAS calls touch it directly.
/// Zero-filled at creation. `@unchecked Sendable`: threads write disjoint ranges by construction.
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Memory that is written before it is read (activations): left untouched, so pages that are never
    /// used (intermediate activations in a streaming inference pass) never become resident.
    init(unfilledCount count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    /// A copy of the contents as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every element to zero. Cost: one pass over `count` floats.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Overwrites the contents with `values` (which must have `count` elements).
    public func set(_ values: [Float]) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

/// A growable scratch buffer: `reserve(n)` returns memory for at least `n` floats, reallocating only
/// when `n` exceeds what it already holds. Contents are unspecified after a reallocation.
final class Workspace: @unchecked Sendable {
    private(set) var buffer = Buffer(count: 0)

    func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < n { buffer = Buffer(count: n) }
        return buffer.pointer
    }
}
