import Classifier
import Foundation
import Pipeline

/// What `smear validate` prints and writes: per-field and overall agreement with the annotations.
/// Figures that have no value (no classifier ran, no annotations) are written as `null`, never left out,
/// as in `report.json`.
public struct ValidationReport: Encodable, Sendable {
    public struct Row: Encodable, Sendable {
        public var image: String
        public var annotated: Int
        public var detected: Int
        public var matched: Int
        @NullEncoded public var recall: Double?
        @NullEncoded public var precision: Double?
        @NullEncoded public var countRatio: Double?
        public var leukocytesAnnotated: Int
        public var leukocytesExcluded: Int
        public var leukocytesIdentified: Int
        /// With a classifier: parasitemia (percent) predicted and annotated, and the absolute error.
        @NullEncoded public var predictedParasitemiaPercent: Double?
        @NullEncoded public var annotatedParasitemiaPercent: Double?
        @NullEncoded public var parasitemiaAbsoluteErrorPercent: Double?
        /// Matched cells: annotated parasitized called parasitized / uninfected, annotated uninfected
        /// called uninfected / parasitized.
        @NullEncoded public var truePositives: Int?
        @NullEncoded public var falseNegatives: Int?
        @NullEncoded public var trueNegatives: Int?
        @NullEncoded public var falsePositives: Int?
    }
    public struct Overall: Encodable, Sendable {
        public var images: Int
        public var annotated: Int
        public var detected: Int
        public var matched: Int
        @NullEncoded public var recall: Double?
        @NullEncoded public var precision: Double?
        @NullEncoded public var countRatio: Double?
        /// Count ratio over fields with at least `denseThreshold` annotated cells (fields labelled
        /// completely enough for a count to mean something).
        public var denseThreshold: Int
        public var denseImages: Int
        @NullEncoded public var denseCountRatio: Double?
        public var leukocytesAnnotated: Int
        @NullEncoded public var leukocyteExclusionRate: Double?
        @NullEncoded public var leukocyteIdentificationRate: Double?
        /// With a classifier, on matched cells annotated parasitized or uninfected.
        @NullEncoded public var sensitivity: Double?
        @NullEncoded public var specificity: Double?
        @NullEncoded public var truePositives: Int?
        @NullEncoded public var falseNegatives: Int?
        @NullEncoded public var trueNegatives: Int?
        @NullEncoded public var falsePositives: Int?
        /// Pooled parasitemia (percent) predicted over all counted cells and annotated over all
        /// annotated red cells, and the median over images of the absolute per-image error.
        @NullEncoded public var predictedParasitemiaPercent: Double?
        @NullEncoded public var annotatedParasitemiaPercent: Double?
        @NullEncoded public var medianAbsoluteParasitemiaErrorPercent: Double?
        /// The same two corrected for the classifier's errors at the model's operating point
        /// (`Tally.adjusted`), when the run used it; null otherwise.
        @NullEncoded public var adjustedPredictedParasitemiaPercent: Double?
        @NullEncoded public var adjustedMedianAbsoluteParasitemiaErrorPercent: Double?
        /// Images with at least one cell called parasitized.
        @NullEncoded public var imagesWithParasitizedCalls: Int?
    }
    public var tool: AnalysisReport.Tool
    public var rules: String
    /// Present when a classifier ran: its model and threshold, and a note on the figures.
    @NullEncoded public var classifier: String?
    @NullEncoded public var threshold: Double?
    /// The model's operating point, when the run used it (`AnalysisReport.Settings.operatingPoint`).
    @NullEncoded public var operatingPoint: OperatingPoint?
    @NullEncoded public var classificationNote: String?
    public var images: [Row]
    public var failures: [AnalysisReport.Failure]
    public var overall: Overall
    /// One line per slide validated (`ValidationMatches.summary`), printed after the overall figures;
    /// not in the JSON (its rows are in `images`).
    public var slides: [String]

    enum CodingKeys: String, CodingKey {
        case tool, rules, classifier, threshold, operatingPoint, classificationNote, images, failures, overall
    }

    /// `slides`: a line on each slide validated (its rows are among the summary's fields); when there
    /// are any, `rules` says how a slide is validated too.
    public init(version: String, summary: ValidationSummary, failures: [AnalysisReport.Failure],
                classifier: String? = nil, threshold: Double? = nil, operatingPoint: OperatingPoint? = nil, slides: [String] = []) {
        tool = AnalysisReport.Tool(version: version)
        let c = summary.classified
        self.classifier = c ? classifier : nil
        self.threshold = c ? threshold : nil
        self.operatingPoint = c ? operatingPoint : nil
        let rates = c ? operatingPoint : nil
        classificationNote = c ? "Sensitivity and specificity count matched cells only. Annotated parasitemia = parasitized / red-cell annotations; where not every cell is annotated it is an approximation of the field's true parasitemia." : nil
        rules = "Annotations touching the image border (points: closer than one cell radius) and detections marked border are ignored. "
            + "Red cells are matched one-to-one with counted detections: boxes by box IoU >= 0.3 (highest first), points to the nearest detection whose mask contains them. "
            + "Leukocytes are excluded when no counted detection has its centroid in the middle half of the annotation, identified when matched to a leukocyte detection. "
            + "Precision is a lower bound where fields are not fully annotated."
            + (slides.isEmpty ? "" : " On a slide, the pairs are found in each tile among the counted cells whose centroid lies in its core, "
                + "and matched one-to-one over the whole slide; an annotation counts when the tile whose core holds its centre is counted; "
                + "in a slide made of fields (fields.csv), annotations touching their field's edge are ignored, as in the field alone, "
                + "and figures are given per field.")
        self.slides = slides
        images = summary.fields.map { f in
            Row(image: f.image, annotated: f.annotated, detected: f.detected, matched: f.matched, recall: f.recall,
                precision: f.precision, countRatio: f.countRatio, leukocytesAnnotated: f.leukocytesAnnotated,
                leukocytesExcluded: f.leukocytesExcluded, leukocytesIdentified: f.leukocytesIdentified,
                predictedParasitemiaPercent: f.predictedParasitemia.map { 100 * $0 },
                annotatedParasitemiaPercent: f.annotatedParasitemia.map { 100 * $0 },
                parasitemiaAbsoluteErrorPercent: f.predictedParasitemia.flatMap { p in f.annotatedParasitemia.map { 100 * abs(p - $0) } },
                truePositives: f.classified ? f.truePositives : nil, falseNegatives: f.classified ? f.falseNegatives : nil,
                trueNegatives: f.classified ? f.trueNegatives : nil, falsePositives: f.classified ? f.falsePositives : nil)
        }
        self.failures = failures
        overall = Overall(images: summary.fields.count, annotated: summary.annotated, detected: summary.detected,
                          matched: summary.matched, recall: summary.recall, precision: summary.precision,
                          countRatio: summary.countRatio, denseThreshold: summary.denseThreshold,
                          denseImages: summary.denseFields, denseCountRatio: summary.denseCountRatio,
                          leukocytesAnnotated: summary.leukocytesAnnotated,
                          leukocyteExclusionRate: summary.leukocyteExclusionRate,
                          leukocyteIdentificationRate: summary.leukocyteIdentificationRate,
                          sensitivity: c ? summary.sensitivity : nil, specificity: c ? summary.specificity : nil,
                          truePositives: c ? summary.truePositives : nil, falseNegatives: c ? summary.falseNegatives : nil,
                          trueNegatives: c ? summary.trueNegatives : nil, falsePositives: c ? summary.falsePositives : nil,
                          predictedParasitemiaPercent: c ? summary.predictedParasitemia.map { 100 * $0 } : nil,
                          annotatedParasitemiaPercent: c ? summary.annotatedParasitemia.map { 100 * $0 } : nil,
                          medianAbsoluteParasitemiaErrorPercent: c ? summary.medianAbsoluteParasitemiaError().map { 100 * $0 } : nil,
                          adjustedPredictedParasitemiaPercent: rates.flatMap { summary.predictedParasitemia(adjustedBy: $0) }.map { 100 * $0 },
                          adjustedMedianAbsoluteParasitemiaErrorPercent: rates.flatMap { summary.medianAbsoluteParasitemiaError(adjustedBy: $0) }.map { 100 * $0 },
                          imagesWithParasitizedCalls: c ? summary.fieldsWithParasitizedCalls : nil)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// One line per image, then an `OVERALL` line.
    public func csv() -> String {
        var lines = [CSVTable.line(["image", "annotated", "detected", "matched", "recall", "precision", "count_ratio",
                                    "leukocytes_annotated", "leukocytes_excluded", "leukocytes_identified",
                                    "predicted_parasitemia_percent", "annotated_parasitemia_percent", "parasitemia_abs_error_percent",
                                    "tp", "fn", "tn", "fp"])]
        for r in images {
            lines.append(CSVTable.line([r.image, String(r.annotated), String(r.detected), String(r.matched),
                                        fixed(r.recall), fixed(r.precision), fixed(r.countRatio),
                                        String(r.leukocytesAnnotated), String(r.leukocytesExcluded), String(r.leukocytesIdentified),
                                        fixed(r.predictedParasitemiaPercent), fixed(r.annotatedParasitemiaPercent),
                                        fixed(r.parasitemiaAbsoluteErrorPercent), int(r.truePositives), int(r.falseNegatives),
                                        int(r.trueNegatives), int(r.falsePositives)]))
        }
        let o = overall
        lines.append(CSVTable.line(["OVERALL", String(o.annotated), String(o.detected), String(o.matched), fixed(o.recall),
                                    fixed(o.precision), fixed(o.countRatio), String(o.leukocytesAnnotated),
                                    o.leukocytesAnnotated > 0 ? String(images.reduce(0) { $0 + $1.leukocytesExcluded }) : "0",
                                    o.leukocytesAnnotated > 0 ? String(images.reduce(0) { $0 + $1.leukocytesIdentified }) : "0",
                                    fixed(o.predictedParasitemiaPercent), fixed(o.annotatedParasitemiaPercent),
                                    fixed(o.medianAbsoluteParasitemiaErrorPercent), int(o.truePositives), int(o.falseNegatives),
                                    int(o.trueNegatives), int(o.falsePositives)]))
        return lines.joined(separator: "\n") + "\n"
    }

    /// A human-readable table: one row per image (when `perImage`), then the overall figures. Image
    /// names are shown with control characters (line breaks, terminal escape sequences, NUL) as "?" and
    /// abbreviated in the middle to the name column's width (at most 40 characters), so each image is
    /// one row and the columns stay aligned for names of single-width characters.
    public func text(perImage: Bool) -> String {
        var out = ""
        let names = images.map { terminalText($0.image) }
        let nameWidth = max(5, min(40, names.map(\.count).max() ?? 5))
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : (left ? s + String(repeating: " ", count: n - s.count) : String(repeating: " ", count: n - s.count) + s)
        }
        let header = pad("image", nameWidth, left: true) + pad("annotated", 11) + pad("detected", 10) + pad("matched", 9)
            + pad("recall", 8) + pad("precision", 11) + pad("ratio", 7)
        if perImage {
            out += header + "\n"
            for (r, name) in zip(images, names) {
                out += pad(name.abbreviatedInMiddle(toCharacters: nameWidth), nameWidth, left: true) + pad(String(r.annotated), 11) + pad(String(r.detected), 10)
                    + pad(String(r.matched), 9) + pad(fixed(r.recall), 8) + pad(fixed(r.precision), 11) + pad(fixed(r.countRatio), 7) + "\n"
            }
            out += "\n"
        }
        let o = overall
        out += "images \(o.images), annotated cells \(o.annotated), detected \(o.detected), matched \(o.matched)\n"
        out += "recall \(fixed(o.recall)), precision \(fixed(o.precision)) (a lower bound where not every cell is annotated), count ratio detected/annotated \(fixed(o.countRatio))\n"
        out += "count ratio on the \(o.denseImages) fields with >= \(o.denseThreshold) annotated cells: \(fixed(o.denseCountRatio))\n"
        if o.leukocytesAnnotated > 0 {
            out += "leukocytes annotated \(o.leukocytesAnnotated): excluded from the count \(percent(o.leukocyteExclusionRate)), identified as leukocytes \(percent(o.leukocyteIdentificationRate))\n"
        }
        if o.sensitivity != nil || o.specificity != nil {
            let tp = o.truePositives ?? 0, fn = o.falseNegatives ?? 0, tn = o.trueNegatives ?? 0, fp = o.falsePositives ?? 0
            out += "parasitized cells (matched cells only): sensitivity \(fixed(o.sensitivity)) (\(tp) of \(tp + fn)), specificity \(o.specificity.map { String(format: "%.4f", $0) } ?? "-") (\(fp) false positives in \(tn + fp))\n"
        } else if o.imagesWithParasitizedCalls != nil {
            out += "parasitized cells: no matched cell is annotated parasitized or uninfected\n"
        }
        if let p = o.predictedParasitemiaPercent {
            out += "parasitemia: predicted \(String(format: "%.3f%%", p)), annotated \(o.annotatedParasitemiaPercent.map { String(format: "%.3f%%", $0) } ?? "-"); median absolute error per image \(o.medianAbsoluteParasitemiaErrorPercent.map { String(format: "%.3f", $0) } ?? "-") percentage points\n"
            out += "images with a parasitized call: \(o.imagesWithParasitizedCalls ?? 0) of \(o.images)\n"
            if let a = o.adjustedPredictedParasitemiaPercent, let e = o.adjustedMedianAbsoluteParasitemiaErrorPercent {
                out += "adjusted for the classifier's errors (operating point): predicted \(String(format: "%.3f%%", a)); median absolute error per image \(String(format: "%.3f", e)) percentage points\n"
            }
            out += "(annotated parasitemia counts annotated cells only: where not every cell is annotated it is an approximation)\n"
        }
        for line in slides { out += terminalText(line) + "\n" }
        if !failures.isEmpty { out += "\(failures.count) image(s) failed\n" }
        return out
    }
}

/// `s` with each control character (C0, DEL, C1) replaced by "?", for a terminal.
func terminalText(_ s: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in s.unicodeScalars {
        scalars.append(scalar.isControl ? "?" : scalar)
    }
    return String(scalars)
}

func fixed(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
func int(_ v: Int?) -> String { v.map(String.init) ?? "" }
func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
