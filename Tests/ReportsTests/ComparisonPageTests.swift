import Classifier
import Foundation
import PropertyBased
import Testing
@testable import Reports

/// The `smear compare` page from generated comparisons: hostile candidate and data set names, random
/// predictions (one class missing at times), training curves with gaps (NaN) and any number of folds.
@Suite struct ComparisonPageTests {
    static let comparisons = Generator<ModelComparison, Shrink.None<ModelComparison>> { rng in
        let classNames = ["Parasitized", "Uninfected"]
        let folds = Int.random(in: 2...6, using: &rng)
        let candidates = (0..<Int.random(in: 1...4, using: &rng)).map { i -> ModelComparison.Candidate in
            var predictions: [CrossValidation.Prediction] = []
            let onlyOneClass = Int.random(in: 0..<8, using: &rng) == 0
            for n in 0..<Int.random(in: 1...200, using: &rng) {
                let label = onlyOneClass ? 1 : Int.random(in: 0...1, using: &rng)
                let p = Float.random(in: 0...1, using: &rng)
                predictions.append(.init(path: "x/\(n).png", group: "P\(n % 7)", label: label, probabilities: [p, 1 - p], fold: n % folds))
            }
            let curves = (0..<folds).map { _ in
                (1...Int.random(in: 1...12, using: &rng)).map { e in
                    CrossValidation.EpochPoint(epoch: e, trainLoss: Double.random(in: 0...3, using: &rng), trainAccuracy: Double.random(in: 0...1, using: &rng),
                                               heldOutLoss: Bool.random(using: &rng) ? .nan : Double.random(in: 0...5, using: &rng),
                                               heldOutAccuracy: Double.random(in: 0...1, using: &rng))
                }
            }
            let outcome = CrossValidation.Outcome(predictions: predictions, seconds: Dictionary(uniqueKeysWithValues: (0..<folds).map { ($0, 1.0) }),
                                                  curves: curves, imagesPerSecond: [1000, 3000], modelBytes: 1234)
            return ModelComparison.Candidate(name: "⟪\(i)⟫" + Hostile.name(&rng, maxLength: 60), spec: Hostile.name(&rng, maxLength: 80),
                                             recipe: "--arch " + Hostile.name(&rng, maxLength: 40), parameters: 100,
                                             outcome: outcome, classNames: classNames, positive: 0)
        }
        return ModelComparison(dataset: Hostile.name(&rng, maxLength: 80), folds: folds, images: 200, groups: 7, classNames: classNames,
                               positiveClass: "Parasitized", candidates: candidates)
    }

    /// The tags the page is made of; data must never add one.
    static let ourTags: Set<String> = ["html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span", "table", "tr",
                                       "th", "td", "b", "br", "div", "code", "small", "i", "svg", "text", "line", "rect", "polyline",
                                       "circle", "defs", "clipPath"]

    @Test func hostileNamesAreEscapedAndEveryChartIsDrawnWithFiniteCoordinates() async {
        await propertyCheck(count: 60, input: Self.comparisons) { comparison in
            let html = ComparisonPage(comparison).html()
            for m in comparison.candidates {
                #expect(html.contains(ReportPagePropertyTests.escaped(m.name)), "every candidate is named")
            }
            #expect(comparison.dataset.isEmpty || html.contains(ReportPagePropertyTests.escaped(comparison.dataset)))
            // No markup but ours: find every "<" and check the tag name.
            let bytes = Array(html.utf8)
            for (i, b) in bytes.enumerated() where b == UInt8(ascii: "<") {
                let rest = String(decoding: bytes[(i + 1)..<min(bytes.count, i + 20)], as: UTF8.self)
                if rest.hasPrefix("!DOCTYPE html>") { continue }
                let name = rest.drop { $0 == "/" }.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
                #expect(Self.ourTags.contains(String(name)), "foreign markup: <\(rest)")
            }
            // Every clip path's id is unique, and every clipped line names one of them.
            let ids = html.components(separatedBy: "<clipPath id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            #expect(Set(ids).count == ids.count)
            let used = html.components(separatedBy: "clip-path=\"url(#").dropFirst().map { String($0.prefix { $0 != ")" }) }
            #expect(Set(used).isSubset(of: Set(ids)))
            // Two training charts per candidate, plus the four curve charts when a candidate has an ROC or a
            // precision-recall curve (one class alone can give the second without the first).
            let svgs = html.components(separatedBy: "<svg ").count - 1
            let withCurves = comparison.candidates.contains { $0.roc != nil || $0.precisionRecall != nil }
            #expect(svgs == 2 * comparison.candidates.count + (withCurves ? 4 : 0))
            // Every number in a drawing attribute is finite.
            let numbers = try! NSRegularExpression(pattern: #"(?:points|x1|x2|y1|y2|cx|cy|x|y|width|height)="([^"]*)""#)
            for match in numbers.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
                let value = String(html[Range(match.range(at: 1), in: html)!])
                for part in value.split(whereSeparator: { $0 == " " || $0 == "," }) {
                    #expect(Double(part).map { $0.isFinite && abs($0) < 20_000 } == true, "coordinate \(part)")
                }
            }
        }
    }

    @Test func ticksAreRoundAndInsideTheRange() {
        #expect(SVGChart.ticks(0...1).map(SVGChart.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        #expect(SVGChart.ticks(0...0.1).map(SVGChart.label) == ["0", "0.02", "0.04", "0.06", "0.08", "0.1"])
        #expect(SVGChart.ticks(1...3, integer: true) == [1, 2, 3])
        #expect(SVGChart.ticks(1...40, integer: true) == [10, 20, 30, 40])
        #expect(SVGChart.ticks(0.7...1).allSatisfy { $0 >= 0.7 && $0 <= 1 + 1e-9 })
        #expect(SVGChart.ticks(5...5) == [5])
    }
}
