import Testing
@testable import Segmentation

@Suite struct DisjointSetsTests {
    @Test func findGivesTheSmallestMemberOfEachSetAsANaiveTableDoes() {
        var rng = SeededGenerator(seed: 7000)
        for count in [1, 2, 5, 40, 300] {
            var sets = DisjointSets(count: count)
            var naive = Array(0..<count)   // a set id per member; a union renames one set
            for step in 0..<(2 * count) {
                let a = Int.random(in: 0..<count, using: &rng), b = Int.random(in: 0..<count, using: &rng)
                let root = sets.union(a, b)
                let (keep, rename) = (naive[a], naive[b])
                for i in naive.indices where naive[i] == rename { naive[i] = keep }
                #expect(root == naive.firstIndex(of: naive[a]), "count \(count), step \(step)")
                if step % 7 == 0 || step == 2 * count - 1 {
                    for x in 0..<count {
                        #expect(sets.find(x) == naive.firstIndex(of: naive[x]), "count \(count), step \(step), member \(x)")
                    }
                }
            }
        }
    }

    @Test func membersStartAloneAndJoiningASetToItselfChangesNothing() {
        var sets = DisjointSets(capacity: 4)
        #expect(sets.count == 0)
        #expect(sets.add() == 0)
        #expect(sets.add() == 1)
        #expect(sets.add() == 2)
        #expect(sets.count == 3)
        #expect((sets.find(0), sets.find(1), sets.find(2)) == (0, 1, 2))
        #expect(sets.union(2, 1) == 1)
        #expect(sets.union(1, 2) == 1)
        #expect((sets.find(0), sets.find(1), sets.find(2)) == (0, 1, 1))
    }

    @Test func relabelNumbersSetsInRasterOrderOfTheirFirstPixel() {
        var rng = SeededGenerator(seed: 7100)
        for (width, height, count) in [(1, 1, 1), (9, 7, 5), (40, 30, 25)] {
            for _ in 0..<5 {
                var labels = TestImages.randomLabels(width: width, height: height, count: count, rectangles: 3 * count,
                                                     specks: count, seed: rng.next())
                var sets = DisjointSets(count: count + 1)
                var naive = Array(0...count)
                for _ in 0..<(count / 2) {
                    let a = Int.random(in: 1...count, using: &rng), b = Int.random(in: 1...count, using: &rng)
                    sets.union(a, b)
                    let (keep, rename) = (naive[a], naive[b])
                    for i in naive.indices where naive[i] == rename { naive[i] = keep }
                }
                // Plain renumbering: sets by their first pixel in raster order.
                var number: [Int: Int32] = [:]
                let expected = labels.labels.map { l -> Int32 in
                    guard l != 0 else { return 0 }
                    if number[naive[Int(l)]] == nil { number[naive[Int(l)]] = Int32(number.count + 1) }
                    return number[naive[Int(l)]]!
                }
                sets.relabel(&labels)
                #expect(labels.labels == expected)
                #expect(labels.count == number.count)
            }
        }
    }
}
