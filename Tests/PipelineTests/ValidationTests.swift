import Testing
import Classifier
@testable import Pipeline
import Segmentation

/// Matching rules of `FieldValidation` on hand-made detections and annotations.
@Suite struct ValidationTests {
    /// A square object with a full mask.
    static func object(_ id: Int, x: Int, y: Int, size: Int = 20, status: ObjectStatus = .counted) -> DetectedObject {
        DetectedObject(id: id, x: x, y: y, mask: BinaryImage(width: size, height: size, bits: [UInt8](repeating: 1, count: size * size)),
                       status: status)
    }

    static func segmentation(_ objects: [DetectedObject]) -> SegmentationResult {
        SegmentationResult(width: 200, height: 200, objects: objects, cellDiameter: 20, diameterEstimated: true, workingScale: 1)
    }

    static func box(_ x: Double, _ y: Double, _ w: Double = 20, _ h: Double = 20, _ kind: Annotation.Kind = .uninfected) -> Annotation {
        Annotation(image: "f", x: x, y: y, width: w, height: h, kind: kind, sourceLabel: "")
    }

    static func point(_ x: Double, _ y: Double, _ kind: Annotation.Kind = .uninfected) -> Annotation {
        Annotation(image: "f", x: x, y: y, width: nil, height: nil, kind: kind, sourceLabel: "")
    }

    @Test func boxesMatchOneToOneByIoU() {
        let objects = [Self.object(1, x: 50, y: 50), Self.object(2, x: 100, y: 50)]
        // Two boxes want detection 1 (IoU 1.0 and 0.6); the worse one is left without a match. The
        // third overlaps detection 2 by IoU 0.25, under the 0.3 needed.
        let annotations = [Self.box(50, 50), Self.box(54, 50), Self.box(112, 50)]
        let v = FieldValidation(image: "f", segmentation: Self.segmentation(objects), annotations: annotations)
        #expect(v.annotated == 3 && v.detected == 2)
        #expect(v.pairs == [MatchedPair(annotation: 0, detection: 1)])
        #expect(v.matched == 1)
    }

    @Test func pointsMatchTheNearestContainingDetection() {
        let objects = [Self.object(1, x: 50, y: 50), Self.object(2, x: 70, y: 50)]
        let annotations = [Self.point(60, 60), Self.point(75, 55), Self.point(150, 150)]
        let v = FieldValidation(image: "f", segmentation: Self.segmentation(objects), annotations: annotations)
        // (60, 60) lies in detection 1 only (x 50..<70); (75, 55) in detection 2; (150, 150) in none.
        #expect(v.pairs == [MatchedPair(annotation: 0, detection: 1), MatchedPair(annotation: 1, detection: 2)])
    }

    @Test func borderAnnotationsAndBorderDetectionsAreIgnored() {
        let objects = [Self.object(1, x: 0, y: 50, status: .border), Self.object(2, x: 50, y: 50)]
        // A box touching the left edge, a point within a cell radius (median equivalent radius of the
        // counted cells: √(400/π) ≈ 11.3 px) of the top edge, and an interior box.
        let annotations = [Self.box(0, 50), Self.point(100, 5), Self.box(50, 50)]
        let v = FieldValidation(image: "f", segmentation: Self.segmentation(objects), annotations: annotations)
        #expect(v.annotated == 1 && v.detected == 1 && v.matched == 1)
        #expect(v.considered == [2])
    }

    @Test func leukocytesAreExcludedAndIdentified() {
        let objects = [Self.object(1, x: 50, y: 50, size: 40, status: .leukocyte), Self.object(2, x: 120, y: 120)]
        let annotations = [Self.box(50, 50, 40, 40, .leukocyte), Self.box(115, 115, 30, 30, .leukocyte)]
        let v = FieldValidation(image: "f", segmentation: Self.segmentation(objects), annotations: annotations)
        #expect(v.leukocytesAnnotated == 2)
        #expect(v.leukocytesIdentified == 1)
        // The second leukocyte has a counted cell's centroid (130, 130) in its middle half: not excluded.
        #expect(v.leukocytesExcluded == 1)
    }

    @Test func classificationFiguresOnMatchedCells() {
        let objects = (0..<4).map { Self.object($0 + 1, x: 20 + 40 * $0, y: 50) } + [Self.object(5, x: 20, y: 120)]
        let annotations = [Self.box(20, 50, 20, 20, .parasitized), Self.box(60, 50, 20, 20, .parasitized),
                           Self.box(100, 50), Self.box(140, 50)]
        let calls: [Int: CellCall] = [1: CellCall(pParasitized: 0.9, parasitized: true), 2: CellCall(pParasitized: 0.2, parasitized: false),
                                      3: CellCall(pParasitized: 0.7, parasitized: true), 4: CellCall(pParasitized: 0.1, parasitized: false),
                                      5: CellCall(pParasitized: 0.95, parasitized: true)]
        let v = FieldValidation(image: "f", segmentation: Self.segmentation(objects), annotations: annotations, calls: calls)
        #expect((v.truePositives, v.falseNegatives, v.trueNegatives, v.falsePositives) == (1, 1, 1, 1))
        #expect(v.calledParasitized == 3 && v.annotatedParasitized == 2)
        #expect(v.predictedParasitemia == 3.0 / 5.0)
        #expect(v.annotatedParasitemia == 2.0 / 4.0)
        let summary = ValidationSummary(fields: [v])
        #expect(summary.sensitivity == 0.5 && summary.specificity == 0.5)
        #expect(abs(summary.medianAbsoluteParasitemiaError()! - 0.1) < 1e-12)
        #expect(summary.fieldsWithParasitizedCalls == 1)
        // Corrected for a classifier of sensitivity 0.8 and specificity 0.9: (0.6 + 0.9 − 1) / 0.7.
        let rates = OperatingPoint(symmetries: 1, threshold: 0.5, sensitivity: 0.8, specificity: 0.9, measuredOn: "test")
        #expect(abs(summary.predictedParasitemia(adjustedBy: rates)! - 0.5 / 0.7) < 1e-12)
        #expect(abs(summary.medianAbsoluteParasitemiaError(adjustedBy: rates)! - (0.5 / 0.7 - 0.5)) < 1e-12)
    }

    @Test func boxIoUOfKnownBoxes() {
        #expect(boxIoU(0, 0, 10, 10, 0, 0, 10, 10) == 1)
        #expect(boxIoU(0, 0, 10, 10, 20, 20, 5, 5) == 0)
        #expect(abs(boxIoU(0, 0, 10, 10, 5, 0, 10, 10) - 50.0 / 150.0) < 1e-12)
    }
}
