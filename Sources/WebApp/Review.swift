import Classifier
import Foundation
import Pipeline

/// What a reviewer checks and what their decisions make of the count.
///
/// A reviewer goes through every counted cell the machine called parasitized and the doubtful
/// uninfected ones: the `doubtfulCount` with the highest probability, among those with probability at
/// least `doubtfulFloor` (`Store.reviewCells`). Each decision says what the cell is (parasitized or
/// uninfected); the latest decision on a cell replaces the machine's call, and the reviewed
/// parasitemia is the count with those calls (`Store.tallies`). Cells are never added or removed by a
/// review: the number counted stays the machine's.
public enum Review {
    /// How many doubtful uninfected cells are offered for review, at most.
    public static let doubtfulCount = 50
    /// The lowest probability of parasitization at which an uninfected cell is doubtful.
    public static let doubtfulFloor = 0.1

    /// Whether a counted cell's call may be offered for review (it gets a picture as it is stored):
    /// parasitized, or uninfected with probability at least `doubtfulFloor`.
    static func isCandidate(_ call: CellCall) -> Bool { call.parasitized || call.pParasitized >= doubtfulFloor }

    /// A count's figures as the pages, the API and the export give them: percentages rounded to 4
    /// decimals, parasites per µL to whole ones; nil where no cell was counted.
    public struct Figures: Codable, Sendable, Equatable {
        public var cellsCounted: Int
        public var parasitized: Int
        public var parasitemiaPercent: Double?
        public var parasitemiaCi95Percent: [Double]?
        /// The parasitemia corrected for the classifier's errors (`Tally.adjusted`): only for the
        /// machine's own calls made at the model's operating point, never for a reviewed count.
        public var adjustedParasitemiaPercent: Double?
        public var adjustedParasitemiaCi95Percent: [Double]?
        public var parasitesPerMicrolitre: Double?
        public var parasitesPerMicrolitreCi95: [Double]?

        public init(_ tally: Tally, redCellsPerMicrolitre: Double, operatingPoint: OperatingPoint? = nil) {
            cellsCounted = tally.counted
            parasitized = tally.parasitized
            parasitemiaPercent = tally.parasitemia.map { Self.round(100 * $0, 4) }
            parasitemiaCi95Percent = tally.interval.map { [Self.round(100 * $0.lower, 4), Self.round(100 * $0.upper, 4)] }
            let adjusted = operatingPoint.flatMap { tally.adjusted(by: $0) }
            adjustedParasitemiaPercent = adjusted.map { Self.round(100 * $0.value, 4) }
            adjustedParasitemiaCi95Percent = adjusted.map { [Self.round(100 * $0.lower, 4), Self.round(100 * $0.upper, 4)] }
            let perUL = tally.perMicrolitre(redCellsPerMicrolitre)
            parasitesPerMicrolitre = perUL.map { $0.value.rounded() }
            parasitesPerMicrolitreCi95 = perUL.map { [$0.lower.rounded(), $0.upper.rounded()] }
        }

        static func round(_ value: Double, _ places: Int) -> Double {
            let scale = pow(10, Double(places))
            return (value * scale).rounded() / scale
        }
    }

    /// The automatic and reviewed figures of a sample, as shown beside each other and signed off.
    public struct Summary: Codable, Sendable, Equatable {
        public var automatic: Figures
        public var reviewed: Figures
        /// Cells with at least one decision, and those whose decision differs from the machine's call.
        public var cellsReviewed: Int
        public var callsChanged: Int
    }
}
