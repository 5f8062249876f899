import Foundation
import ImageCodecs
import Pipeline
import PropertyBased
import Segmentation
import Testing
@testable import Reports

/// The validation overlay draws annotations straight from a CSV file: boxes and points with NaN, ±∞,
/// 1e300, negative sizes, far outside the image. Rectangles match a pixel-by-pixel definition for any
/// integers, and whole renders change only pixels near an annotation.
@Suite struct ValidationOverlayPropertyTests {
    /// Whether `p` lies in [start, start + length), computed without overflow.
    static func within(_ p: Int, _ start: Int, _ length: Int) -> (inside: Bool, offset: Int) {
        guard p >= start else { return (false, 0) }
        let (d, overflow) = p.subtractingReportingOverflow(start)
        return (!overflow && d < length, d)
    }

    /// The rectangle by definition: pixels of the box within `thickness` of one of its edges.
    static func onOutline(_ px: Int, _ py: Int, x: Int, y: Int, width: Int, height: Int, thickness: Int) -> Bool {
        guard thickness > 0 else { return false }
        let (inX, dx) = within(px, x, width), (inY, dy) = within(py, y, height)
        return inX && inY && (dx < thickness || width - 1 - dx < thickness || dy < thickness || height - 1 - dy < thickness)
    }

    static let rectangles = Generator<[Int], Shrink.None<[Int]>> { rng in
        let w = Int.random(in: 1...40, using: &rng), h = Int.random(in: 1...40, using: &rng)
        func size(_ extent: Int) -> Int {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return Int.max
            case 1: return Int.min
            case 2: return -Int.random(in: 0...50, using: &rng)
            case 3: return Int.random(in: 0...(1 << 62), using: &rng)
            default: return Int.random(in: 0...extent + 10, using: &rng)
            }
        }
        let thickness = Int.random(in: 0..<8, using: &rng) == 0 ? [Int.max, 0, -1, 1 << 40].randomElement(using: &rng)! : Int.random(in: 1...6, using: &rng)
        return [w, h, Hostile.coordinate(&rng, extent: w), Hostile.coordinate(&rng, extent: h), size(w), size(h), thickness]
    }

    @Test func rectanglesOfAnyIntegersAreExactlyTheirOutlineInsideTheImage() async {
        await propertyCheck(count: 400, input: Self.rectangles) { r in
            let (w, h, x, y, width, height, thickness) = (r[0], r[1], r[2], r[3], r[4], r[5], r[6])
            var image = RGBImage(width: w, height: h)
            Overlay.drawRectangle(on: &image, x: x, y: y, width: width, height: height, color: (255, 0, 0), thickness: thickness)
            var wrong = 0
            for py in 0..<h {
                for px in 0..<w {
                    let expected = Self.onOutline(px, py, x: x, y: y, width: width, height: height, thickness: thickness)
                    if (image[px, py] == (255, 0, 0)) != expected { wrong += 1 }
                }
            }
            #expect(wrong == 0, "\(wrong) pixels differ from the outline of \(width)×\(height) at \(x),\(y), thickness \(thickness)")
        }
    }

    /// A field with annotations read from a hostile CSV and no detections.
    struct Scene: Sendable {
        var field: RGBImage
        var name: String
        var annotations: [Annotation]
        var validation: FieldValidation
    }

    /// Annotations of image "f" read by `Annotation.load` from a cells.csv holding `rows`
    /// (x, y, width, height; nil width and height for a point) written as Swift prints doubles
    /// ("nan", "inf", "1e+300"), which the reader accepts.
    static func annotations(_ rows: [(Double, Double, Double?, Double?, Annotation.Kind)]) -> [Annotation] {
        let path = NSTemporaryDirectory() + "smear-annotations-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = rows.map { "f,\($0.0),\($0.1),\($0.2.map { "\($0)" } ?? ""),\($0.3.map { "\($0)" } ?? ""),\($0.4.rawValue),x" }
        FileManager.default.createFile(atPath: path, contents: Data((["image,x,y,width,height,class,source_label"] + lines).joined(separator: "\n").utf8))
        let loaded = (try? Annotation.load(csv: path)) ?? [:]
        #expect(loaded["f", default: []].count == rows.count)
        return loaded["f", default: []]
    }

    static let scenes = Generator<Scene, Shrink.None<Scene>> { rng in
        let size = Hostile.imageSizes.run(using: &rng)
        let rows = (0..<Int.random(in: 0...30, using: &rng)).map { _ in
            let box = Bool.random(using: &rng)
            return (Hostile.double(&rng, extent: size.width), Hostile.double(&rng, extent: size.height),
                    box ? Hostile.double(&rng, extent: size.width) : nil, box ? Hostile.double(&rng, extent: size.height) : nil,
                    [Annotation.Kind.uninfected, .parasitized, .leukocyte, .unknown].randomElement(using: &rng)!)
        }
        let annotations = annotations(rows)
        // Compared as validate compares them (no detections here), then every annotation drawn, not
        // only those clear of the border.
        var validation = FieldValidation(image: "f", segmentation: SegmentationResult(width: size.width, height: size.height, objects: [],
                                                                                      cellDiameter: 40, diameterEstimated: true, workingScale: 1),
                                         annotations: annotations)
        validation.considered = Set(annotations.indices)
        return Scene(field: Hostile.field(width: size.width, height: size.height), name: Hostile.name(&rng),
                     annotations: annotations, validation: validation)
    }

    /// Where annotation `a` may be drawn, loosely (one pixel of slack): its box, or its cross.
    static func near(_ px: Int, _ py: Int, _ a: Annotation, scale: Int) -> Bool {
        let x = Double(px), y = Double(py)
        if let w = a.width, let h = a.height {
            return x >= a.x - 1 && x <= a.x + w + 1 && y >= a.y - 1 && y <= a.y + h + 1
        }
        let r = Double(4 * scale + 1)
        return abs(x - a.x) <= r + Double(scale) && abs(y - a.y) <= r + Double(scale)
    }

    @Test func anyAnnotationsChangeOnlyPixelsNearThem() async {
        await propertyCheck(count: 80, input: Self.scenes) { scene in
            let segmentation = SegmentationResult(width: scene.field.width, height: scene.field.height, objects: [], cellDiameter: 40,
                                                  diameterEstimated: true, workingScale: 1)
            let out = Overlay.renderValidation(scene.field, name: scene.name, segmentation: segmentation,
                                               annotations: scene.annotations, validation: scene.validation)
            let scale = Overlay.drawingScale(of: scene.field)
            OverlayPropertyTests.checkHeader(out, field: scene.field,
                                             entries: Overlay.validationLegend(name: scene.name, validation: scene.validation), scale: scale)
            guard out.height >= scene.field.height else { return }
            let (far, changed) = OverlayPropertyTests.changedPixels(scene.field, out, rowOffset: out.height - scene.field.height) { x, y in
                !scene.annotations.contains { Self.near(x, y, $0, scale: scale) }
            }
            if scene.annotations.isEmpty { #expect(changed == 0) }
            #expect(far.isEmpty, "pixels changed away from every annotation: \(far)")
        }
    }

    @Test func nonFiniteAndNegativeAnnotationsDrawNothing() {
        let field = Hostile.field(width: 64, height: 48)
        let annotations = Self.annotations([(.nan, 5, 10, 10, .uninfected), (5, 5, .nan, 10, .uninfected), (5, 5, -10, 10, .uninfected),
                                            (5, 5, 10, -3, .uninfected), (-.infinity, 5, .infinity, 10, .uninfected),
                                            (.nan, .nan, nil, nil, .uninfected), (1e300, 5, nil, nil, .uninfected)])
        var validation = FieldValidation(image: "f")
        validation.considered = Set(annotations.indices)
        let out = Overlay.renderValidation(field, name: "f", segmentation: SegmentationResult(width: 64, height: 48, objects: [], cellDiameter: 8,
                                                                                              diameterEstimated: true, workingScale: 1),
                                           annotations: annotations, validation: validation)
        #expect(Array(out.pixels[(3 * 64 * (out.height - 48))...]) == field.pixels)
        // A box from -1e300 to +1e300 covers the field: its edges are outside, so nothing shows either.
        let boxes = Self.annotations([(-1e300, -1e300, .infinity, .infinity, .uninfected), (-1e9, -1e9, 1e9 + 10, 1e9 + 10, .uninfected)])
        var image = field
        Overlay.drawAnnotation(boxes[0], on: &image, color: (255, 0, 0), thickness: 2, scale: 1)
        #expect(image == field)
        // A box sticking out of the top-left corner draws its bottom and right edges only.
        Overlay.drawAnnotation(boxes[1], on: &image, color: (255, 0, 0), thickness: 1, scale: 1)
        #expect(image[9, 3] == (255, 0, 0) && image[3, 9] == (255, 0, 0) && image[3, 3] == (77, 77, 77) && image[10, 3] == (77, 77, 77))
    }
}
