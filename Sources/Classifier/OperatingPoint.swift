import Foundation

/// How a model is meant to be run, and the error rates cross-validation measured for it when so run.
/// Stored in the model file (`ModelFile`, header key `operatingPoint`; `smear calibrate` writes it) and
/// used as the default of `--symmetries` and `--threshold`. The rates let the pipeline show a
/// parasitemia corrected for the classifier's own errors beside the raw one (`Tally.adjusted`).
public struct OperatingPoint: Codable, Equatable, Sendable {
    /// Test-time symmetries each crop's probabilities are averaged over: 1 (none), 2, 4 or 8
    /// (`CellClassifier.symmetries`).
    public var symmetries: Int
    /// Probability of "parasitized" at or above which a cell is called parasitized, in (0, 1].
    public var threshold: Double
    /// Out-of-fold sensitivity and specificity of the cell calls at this threshold and these symmetries,
    /// fractions in [0, 1] with sensitivity + specificity > 1 (a classifier better than chance).
    public var sensitivity: Double, specificity: Double
    /// What the rates were measured on, in words (the data, the folds, the number of cells).
    public var measuredOn: String
    /// The numbers of distinct parasitized and uninfected cells the rates were measured on, when known:
    /// then the adjusted interval carries the rates' own uncertainty too (`Tally.adjusted`).
    public var positives: Int?, negatives: Int?

    public init(symmetries: Int, threshold: Double, sensitivity: Double, specificity: Double, measuredOn: String,
                positives: Int? = nil, negatives: Int? = nil) {
        self.symmetries = symmetries; self.threshold = threshold
        self.sensitivity = sensitivity; self.specificity = specificity; self.measuredOn = measuredOn
        self.positives = positives; self.negatives = negatives
    }

    /// The symmetry counts `CellClassifier` and `Trainer.predict` accept.
    public static let symmetryCounts = [1, 2, 4, 8]

    /// Why a network whose input is `width × height` cannot be run with `symmetries` symmetries of the
    /// square, or nil: the count must be one of `symmetryCounts`, and 1 unless the input is square (a
    /// 90° rotation of a non-square input is not an input). The one rule the classifier, the model-file
    /// loader and the commands check.
    public static func symmetryProblem(_ symmetries: Int, inputWidth width: Int, inputHeight height: Int) -> String? {
        guard symmetryCounts.contains(symmetries) else { return "symmetries \(symmetries) is not 1, 2, 4 or 8" }
        guard symmetries == 1 || width == height else { return "\(symmetries) symmetries need a square network input, not \(width)×\(height)" }
        return nil
    }

    /// Why this operating point cannot be used, or nil (see the properties' ranges; `measuredOn` at most
    /// 300 characters, without line breaks, since it is printed in reports).
    var problem: String? {
        let checks: [(Bool, String)] = [
            (Self.symmetryCounts.contains(symmetries), "symmetries \(symmetries) is not 1, 2, 4 or 8"),
            (threshold > 0 && threshold <= 1, "threshold \(threshold) is not in (0, 1]"),
            (sensitivity >= 0 && sensitivity <= 1 && specificity >= 0 && specificity <= 1,
             "sensitivity \(sensitivity) or specificity \(specificity) is not in [0, 1]"),
            (sensitivity + specificity > 1, "sensitivity \(sensitivity) + specificity \(specificity) is not above 1"),
            (measuredOn.count <= 300 && !measuredOn.contains(where: \.isNewline), "measuredOn is longer than 300 characters or has a line break"),
            ((positives == nil) == (negatives == nil) && (positives ?? 1) >= 1 && (negatives ?? 1) >= 1,
             "positives and negatives must both be given, each at least 1"),
        ]
        return checks.first { !$0.0 }.map { "operating point: " + $0.1 }
    }

    /// The Rogan–Gladen estimate of the true fraction of positives from the fraction `called` positive
    /// by a classifier of this sensitivity Se and specificity Sp: (called + Sp − 1) / (Se + Sp − 1),
    /// clamped to [0, 1]. Unbiased when the rates hold for the sample at hand; at 1.5 % prevalence it
    /// removes the false-positive floor (1 − Sp) that otherwise adds itself to every parasitemia.
    /// Applied to the bounds of an interval it gives the interval of the estimate with Se and Sp taken
    /// as exact; `Tally.adjusted` widens it by the rates' own intervals when their cell counts are
    /// known. Cost: O(1).
    public func adjusted(_ called: Double) -> Double {
        Self.adjusted(called, sensitivity: sensitivity, specificity: specificity)
    }

    /// The Rogan–Gladen estimate for any rates with `sensitivity + specificity > 1` (see `adjusted(_:)`).
    /// It grows with `called` and `specificity` and falls with `sensitivity` (for `called` below the
    /// sensitivity), which is what bounding it over intervals of the three relies on.
    public static func adjusted(_ called: Double, sensitivity: Double, specificity: Double) -> Double {
        min(1, max(0, (called + specificity - 1) / (sensitivity + specificity - 1)))
    }
}

extension OperatingPoint {
    /// Why an operating point could not be read from a cross-validation; one line.
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The operating point at `threshold` and `symmetries` with the out-of-fold sensitivity and
    /// specificity of the images of `source` (e.g. "IML"; see `CrossValidation.source(ofGroup:)`), read
    /// from `json`, the cv.json `smear cv` wrote (`name` names it in errors). With one symmetry the rates
    /// come from the threshold table of the plain predictions; with more, from that of the averaged
    /// predictions, or at threshold 0.5 from their per-source figures; the cell counts are the source's
    /// images in cv.json (a data set that links an image several times counts it each time). Fails
    /// when cv.json lacks them or when the rates make no usable operating point (`problem`).
    public static func read(crossValidation json: Data, name: String, source: String, symmetries: Int, threshold: Double) throws(ReadError) -> OperatingPoint {
        struct Calls: Decodable { var name: String; var images: Int; var positives: Int; var sensitivity: Double?; var specificity: Double? }
        struct Row: Decodable { var threshold: Double; var sources: [Calls] }
        struct Averaged: Decodable { var symmetries: Int; var sources: [Calls]; var thresholds: [Row]? }
        struct Fold: Decodable { var fold: Int }
        struct CV: Decodable { var folds: [Fold]; var thresholds: [Row]?; var testTimeSymmetries: [Averaged]? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let cv: CV
        do { cv = try decoder.decode(CV.self, from: json) } catch { throw ReadError("\(name): not a cv.json written by smear cv") }
        let calls: Calls?
        if symmetries == 1 {
            guard let rows = cv.thresholds else { throw ReadError("\(name): no threshold table (a model without a 'parasitized' class?)") }
            guard let row = rows.first(where: { abs($0.threshold - threshold) < 1e-9 }) else {
                throw ReadError("\(name): threshold \(threshold) is not in its table (\(rows.map { "\($0.threshold)" }.joined(separator: ", ")))")
            }
            calls = row.sources.first { $0.name == source }
        } else {
            guard let averaged = cv.testTimeSymmetries?.first(where: { $0.symmetries == symmetries }) else {
                throw ReadError("\(name): no figures for \(symmetries) symmetries (smear cv measures 2, 4 and 8)")
            }
            if let rows = averaged.thresholds, let row = rows.first(where: { abs($0.threshold - threshold) < 1e-9 }) {
                calls = row.sources.first { $0.name == source }
            } else if threshold == 0.5 {
                calls = averaged.sources.first { $0.name == source }
            } else {
                throw ReadError("\(name): no threshold table for \(symmetries) symmetries holds \(threshold)")
            }
        }
        guard let c = calls else { throw ReadError("\(name): no images of source '\(source)'") }
        guard let se = c.sensitivity, let sp = c.specificity else {
            throw ReadError("\(name): source '\(source)' needs both parasitized and uninfected images for sensitivity and specificity")
        }
        let point = OperatingPoint(symmetries: symmetries, threshold: threshold, sensitivity: se, specificity: sp,
                                   measuredOn: "grouped \(cv.folds.count)-fold cross-validation, out-of-fold \(source) cells (\(c.images), \(c.positives) parasitized)",
                                   positives: c.positives, negatives: c.images - c.positives)
        if let problem = point.problem { throw ReadError("\(name): \(problem)") }
        return point
    }
}
