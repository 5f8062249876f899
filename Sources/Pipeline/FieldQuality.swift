import Segmentation

/// Plausibility checks of one analysed field, so that no figure is silently wrong: the measures that
/// tell a real thin-smear field from a misread one, and the first rule they break (`problem`). A
/// field with a problem fails quality control: it is reported with the reason and not counted.
///
/// The rules, in the order they are checked (`Limits`). Their limits leave a margin around every one
/// of the 1,073 IML-Malaria, Chula RBC-12 and BCCD fields (range in brackets), all of which pass but
/// one BCCD field with no countable cell:
/// 1. at least one counted cell;
/// 2. typical cell diameter at most 40% of the shorter side [0.05–0.33];
/// 3. the counted cells' median diameter 0.55–1.3 times the typical diameter [0.66–1.17];
/// 4. objects cover at most 90% of the image [0.07–0.81];
/// 5. outline contrast at least 1.6 [1.81–5.9]: cells have outlines, shading has none;
/// 6. the glass is bright (darkest channel at least 90 of 255 [107–225]) and nearly neutral
///    (saturation at most 60 [0–39]);
/// 7. the cells are Giemsa-coloured: red/green absorbance at most 0.85 [0.06–0.76] (grey and black
///    objects have 1), blue/green at most 1.3 [−0.2–1.18];
/// 8. the glass between objects is smooth: background texture at most 0.6 [0.03–0.43];
/// 9. with 3 or more counted cells, median roundness at least 0.65 [0.71–1.08];
/// 10. parasitemia at most 50%: hyperparasitaemia in severe falciparum malaria is over 10% and
///     rarely beyond 30–50% [IML fields: at most 8.2%].
/// Photographs, text, gradients, other stains and mosaics used to choose them: README.md.
public struct FieldQuality: Sendable, Equatable, Encodable {
    /// Typical cell diameter over the image's shorter side.
    public var diameterFraction: Double
    /// Median diameter of the counted cells (that of a disc of the same area) over the typical
    /// diameter the segmentation assumed (nil without counted cells).
    public var sizeAgreement: Double?
    /// Fraction of the image covered by the objects found (all of them, counted or not).
    public var coverage: Double
    /// Median over counted cells of outline gradient over inside gradient (`SegmentationResult`).
    public var outlineContrast: Double?
    /// Texture of the glass between objects against the cells' outlines (`SegmentationResult`).
    public var backgroundTexture: Double?
    /// The glass: its darkest channel (0–255) and its saturation (brightest − darkest channel).
    public var glassLevel: Double
    public var glassSaturation: Double
    /// Median stain colour of the counted cells (`StainRatios`).
    public var stain: StainRatios?
    /// Median over counted cells of their area over that of the ellipse filling their bounding box:
    /// 1 for discs and ellipses, lower for ragged or hollow shapes (letters, scene objects).
    public var roundness: Double?
    /// Counted cells called parasitized over counted cells (nil without a classifier or cells).
    public var parasitemia: Double?
    /// Counted cells.
    public var cellsCounted: Int
    /// Why the field is not plausible; nil when it passes.
    public var problem: String?

    /// Measures `segmentation` (and the classifier's `calls`, if any) and applies the rules.
    public init(segmentation: SegmentationResult, calls: [Int: CellCall]) {
        let counted = segmentation.objects.filter { $0.status == .counted }
        let imageArea = Double(segmentation.width) * Double(segmentation.height)
        diameterFraction = segmentation.cellDiameter / Double(max(1, min(segmentation.width, segmentation.height)))
        sizeAgreement = Self.median(counted.map { (4 * Double($0.area) / Double.pi).squareRoot() }).map { $0 / segmentation.cellDiameter }
        coverage = imageArea > 0 ? Double(segmentation.objects.reduce(0) { $0 + $1.area }) / imageArea : 0
        outlineContrast = segmentation.outlineContrast
        stain = segmentation.stain
        backgroundTexture = segmentation.backgroundTexture
        let glass = segmentation.glass
        glassLevel = Double(min(glass.red, glass.green, glass.blue))
        glassSaturation = Double(max(glass.red, glass.green, glass.blue)) - glassLevel
        roundness = Self.median(counted.map { Double($0.area) / (Double.pi / 4 * Double($0.width) * Double($0.height)) })
        cellsCounted = counted.count
        parasitemia = calls.isEmpty ? nil : Tally(counted: counted.count, parasitized: calls.values.filter(\.parasitized).count).parasitemia
        problem = nil
        problem = firstProblem()
    }

    /// The limits of the rules (see above).
    public enum Limits {
        public static let maxDiameterFraction = 0.4
        public static let sizeAgreement = 0.55...1.3
        public static let maxCoverage = 0.9
        public static let minOutlineContrast = 1.6
        public static let minGlassLevel = 90.0
        public static let maxGlassSaturation = 60.0
        public static let maxRedToGreen = 0.85
        public static let maxBlueToGreen = 1.3
        public static let maxBackgroundTexture = 0.6
        public static let minRoundness = 0.65
        public static let maxParasitemia = 0.5
    }

    /// The first rule the measures break, as the end of a sentence ("failed quality control: …").
    func firstProblem() -> String? {
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        guard cellsCounted > 0 else { return "no red blood cells counted (is this a thin blood smear field?)" }
        if diameterFraction > Limits.maxDiameterFraction {
            return "implausible cell size: \(f(100 * diameterFraction, 0))% of the image's shorter side (at most \(f(100 * Limits.maxDiameterFraction, 0))%)"
        }
        if let a = sizeAgreement, !Limits.sizeAgreement.contains(a) {
            return "implausible cell size: the cells found are \(f(a)) times the size the image suggests (\(f(Limits.sizeAgreement.lowerBound))–\(f(Limits.sizeAgreement.upperBound)))"
        }
        if coverage > Limits.maxCoverage {
            return "objects cover \(f(100 * coverage, 0))% of the image (a thin smear shows glass between its cells; at most \(f(100 * Limits.maxCoverage, 0))%)"
        }
        if let c = outlineContrast, c < Limits.minOutlineContrast {
            return "no cell outlines, only smooth shading (outline contrast \(f(c)), at least \(f(Limits.minOutlineContrast))): is this a thin blood smear field?"
        }
        if glassLevel < Limits.minGlassLevel {
            return "the background is too dark to be glass (darkest channel \(f(glassLevel, 0)) of 255, at least \(f(Limits.minGlassLevel, 0)))"
        }
        if glassSaturation > Limits.maxGlassSaturation {
            return "the background is strongly coloured, not glass (saturation \(f(glassSaturation, 0)), at most \(f(Limits.maxGlassSaturation, 0)))"
        }
        if let stain {
            let grey = abs(stain.redToGreen - 1) < 0.15 && abs(stain.blueToGreen - 1) < 0.15
            if stain.redToGreen > Limits.maxRedToGreen {
                return (grey ? "the objects are colourless (grey or black), not Giemsa-stained cells" : "the objects are not the colour of Giemsa-stained red cells")
                    + " (red/green absorbance \(f(stain.redToGreen)), at most \(f(Limits.maxRedToGreen)))"
            }
            if stain.blueToGreen > Limits.maxBlueToGreen {
                return "the objects are not the colour of Giemsa-stained red cells (blue/green absorbance \(f(stain.blueToGreen)), at most \(f(Limits.maxBlueToGreen)))"
            }
        }
        if let t = backgroundTexture, t > Limits.maxBackgroundTexture {
            return "the space between the objects is textured, not glass (texture \(f(t)), at most \(f(Limits.maxBackgroundTexture)))"
        }
        if cellsCounted >= 3, let r = roundness, r < Limits.minRoundness {
            return "the objects are not round like red cells (roundness \(f(r)), at least \(f(Limits.minRoundness)))"
        }
        if let p = parasitemia, p > Limits.maxParasitemia {
            return "parasitemia \(f(100 * p, 1))% of \(cellsCounted) cells is beyond what microscopy reports (at most \(f(100 * Limits.maxParasitemia, 0))%)"
        }
        return nil
    }

    static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.sorted()[values.count / 2]
    }

    /// As in report.json: `passed`, `problem` and every measure, null where it has no value; the
    /// stain as `stain_red_to_green` and `stain_blue_to_green`; `cells_counted` and `parasitemia` are
    /// left out (the report gives them beside it).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(problem == nil, forKey: .passed)
        try c.encode(problem, forKey: .problem)
        try c.encode(diameterFraction, forKey: .diameterFraction)
        try c.encode(sizeAgreement, forKey: .sizeAgreement)
        try c.encode(coverage, forKey: .coverage)
        try c.encode(outlineContrast, forKey: .outlineContrast)
        try c.encode(backgroundTexture, forKey: .backgroundTexture)
        try c.encode(glassLevel, forKey: .glassLevel)
        try c.encode(glassSaturation, forKey: .glassSaturation)
        try c.encode(stain?.redToGreen, forKey: .stainRedToGreen)
        try c.encode(stain?.blueToGreen, forKey: .stainBlueToGreen)
        try c.encode(roundness, forKey: .roundness)
    }
    enum CodingKeys: CodingKey {
        case passed, problem, diameterFraction, sizeAgreement, coverage, outlineContrast, backgroundTexture, glassLevel,
             glassSaturation, stainRedToGreen, stainBlueToGreen, roundness
    }
}
