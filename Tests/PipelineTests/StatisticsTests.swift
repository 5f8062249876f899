import Testing
import Classifier
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

    @Test func theAdjustedParasitemiaCorrectsTheValueAndTheWilsonBounds() throws {
        let rates = OperatingPoint(symmetries: 4, threshold: 0.5, sensitivity: 0.928, specificity: 0.997, measuredOn: "test")
        let tally = Tally(counted: 5000, parasitized: 85)
        let adjusted = try #require(tally.adjusted(by: rates)), ci = try #require(tally.interval)
        // (0.017 + 0.997 − 1) / (0.928 + 0.997 − 1) = 0.014 / 0.925
        #expect(abs(adjusted.value - 0.014 / 0.925) < 1e-12)
        #expect(abs(adjusted.lower - (ci.lower - 0.003) / 0.925) < 1e-12 && abs(adjusted.upper - (ci.upper - 0.003) / 0.925) < 1e-12)
        #expect(adjusted.lower < adjusted.value && adjusted.value < adjusted.upper)
        // An uninfected sample whose calls are all false positives (at the measured rate) comes out at 0.
        #expect(Tally(counted: 5000, parasitized: 15).adjusted(by: rates)?.value == 0)
        #expect(Tally().adjusted(by: rates) == nil)
    }

    @Test func theRatesOwnUncertaintyWidensTheAdjustedInterval() throws {
        // The bundled model's rates: 375 of 404 parasitized cells found, 27,141 of 27,220 uninfected kept.
        let exact = OperatingPoint(symmetries: 4, threshold: 0.5, sensitivity: 375.0 / 404, specificity: 27141.0 / 27220, measuredOn: "test")
        var counted = exact
        (counted.positives, counted.negatives) = (404, 27220)
        let tally = Tally(counted: 5000, parasitized: 85), ci = try #require(tally.interval)
        let se = try #require(wilsonInterval(successes: 375, trials: 404)), sp = try #require(wilsonInterval(successes: 27141, trials: 27220))
        let a = try #require(tally.adjusted(by: counted)), b = try #require(tally.adjusted(by: exact))
        #expect(a.value == b.value, "the estimate itself does not change")
        // Lower: the count's lower bound, the specificity's lower bound, the sensitivity's upper bound.
        #expect(abs(a.lower - (ci.lower + sp.lower - 1) / (se.upper + sp.lower - 1)) < 1e-12)
        #expect(abs(a.upper - (ci.upper + sp.upper - 1) / (se.lower + sp.upper - 1)) < 1e-12)
        #expect(a.lower < b.lower && b.upper < a.upper, "wider than with the rates taken as exact")
        // Rates from a handful of cells could be chance: no bound.
        var few = exact
        (few.positives, few.negatives) = (2, 2)
        let c = try #require(tally.adjusted(by: few))
        #expect(c.lower == 0 && c.upper == 1)
    }

    @Test func csvRoundTripsQuotedFields() {
        let rows = [["a", "b,c", "say \"hi\""], ["", "x\ny", "z"]]
        let text = rows.map(CSVTable.line).joined(separator: "\n") + "\n"
        #expect(CSVTable.parse(text) == rows)
        #expect(CSVTable.parse("a,b\r\n1,2\r\n") == [["a", "b"], ["1", "2"]])
    }
}
