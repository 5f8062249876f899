/// Disjoint sets of the integers `0..<count` (union–find), each set named by its smallest member.
///
/// `union` hangs the larger of the two roots under the smaller, so the root of a set — what `find`
/// returns — is always its smallest member, whatever the order of the unions; `find` compresses the
/// path it walked. Noncopyable: it owns its table. Cost: `capacity` × 4 bytes; nearly O(1) amortised
/// per operation.
struct DisjointSets: ~Copyable {
    /// parent[x] = x for a root; a smaller member of x's set otherwise. Entries from `count` on are
    /// not yet initialised.
    private let parent: UnsafeMutableBufferPointer<Int32>
    /// Number of members.
    private(set) var count = 0

    /// No members yet, room for `capacity` (see `add`).
    init(capacity: Int) {
        precondition(capacity >= 0 && capacity <= Int(Int32.max))
        parent = .allocate(capacity: capacity)
    }

    /// The members `0..<count`, each a set of its own.
    init(count: Int) {
        self.init(capacity: count)
        for _ in 0..<count { add() }
    }

    deinit { parent.deallocate() }

    /// Adds the member `count` as a set of its own and returns it.
    @inline(__always) @discardableResult mutating func add() -> Int {
        precondition(count < parent.count, "no room for another member")
        parent[count] = Int32(count)
        count += 1
        return count - 1
    }

    /// The smallest member of the set holding `x` (in `0..<count`).
    @inline(__always) mutating func find(_ x: Int) -> Int {
        precondition(x >= 0 && x < count, "member outside 0..<count")
        var root = Int32(x)
        while parent[Int(root)] != root { root = parent[Int(root)] }
        var member = Int32(x)
        while parent[Int(member)] != root { let next = parent[Int(member)]; parent[Int(member)] = root; member = next }
        return Int(root)
    }

    /// Joins the sets holding `a` and `b`; returns the root of the union (its smallest member).
    @inline(__always) @discardableResult mutating func union(_ a: Int, _ b: Int) -> Int {
        let ra = find(a), rb = find(b)
        if ra < rb { parent[rb] = Int32(ra); return ra }
        parent[ra] = Int32(rb)
        return rb
    }

    /// Replaces each label of `labels` by its set's number (0 stays 0), the sets met numbered 1, 2, …
    /// in raster order of their first pixel, and sets `labels.count` to the number of sets met. Labels
    /// must lie in `0...labels.count` and be members; 0 (background) must not have been joined to
    /// another. Cost: one pass.
    mutating func relabel(_ labels: inout LabelImage) {
        // number[x]: the number of x's set once known for x (x met, or x the root of a set met); 0 before.
        var number = [Int32](repeating: 0, count: labels.count + 1)
        var next: Int32 = 0
        labels.labels.withUnsafeMutableBufferPointer { lab in
        number.withUnsafeMutableBufferPointer { number in
            for i in 0..<lab.count where lab[i] != 0 {
                let x = Int(lab[i])
                precondition(x > 0 && x < number.count, "label outside 0...labels.count")
                if number[x] == 0 {
                    let root = find(x)
                    if number[root] == 0 { next += 1; number[root] = next }
                    number[x] = number[root]
                }
                lab[i] = number[x]
            }
        }}
        labels.count = Int(next)
    }
}
