import Testing
@testable import Pipeline

@Suite struct StatisticsTests {
    @Test func wilsonIntervalMatchesPublishedValues() throws {
        // Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 → 0.2553–0.3662; 0/20 → 0–0.1611.
        let a = try #require(wilsonInterval(successes: 81, trials: 263))
        #expect(abs(a.lower - 0.2553) < 5e-4 && abs(a.upper - 0.3662) < 5e-4, "\(a)")
        let b = try #require(wilsonInterval(successes: 0, trials: 20))
        #expect(b.lower == 0 && abs(b.upper - 0.1611) < 5e-4, "\(b)")
        #expect(wilsonInterval(successes: 0, trials: 0) == nil)
    }

    @Test func wilsonIntervalContainsTheProportionAndNarrowsWithMoreCells() throws {
        var previous = 1.0
        for n in [100, 1000, 5000, 50000] {
            let k = n * 15 / 1000
            let ci = try #require(wilsonInterval(successes: k, trials: n))
            let p = Double(k) / Double(n)
            #expect(ci.lower <= p && p <= ci.upper && ci.lower >= 0 && ci.upper <= 1)
            #expect(ci.upper - ci.lower < previous)
            previous = ci.upper - ci.lower
        }
    }

    @Test func csvRoundTripsQuotedFields() {
        let rows = [["a", "b,c", "say \"hi\""], ["", "x\ny", "z"]]
        let text = rows.map(CSVTable.line).joined(separator: "\n") + "\n"
        #expect(CSVTable.parse(text) == rows)
        #expect(CSVTable.parse("a,b\r\n1,2\r\n") == [["a", "b"], ["1", "2"]])
    }
}
