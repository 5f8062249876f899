import FuzzSupport
import Pipeline
import Segmentation

/// The annotation reader: `Annotation.parse` on any text (invalid UTF-8 replaced), then every parsed
/// image's annotations matched against a fixed field (`FieldValidation`, as `smear validate` and
/// `smear crops` do). Also checks that `CSVTable.line` writes every parsed row back so that it parses to
/// the same fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnnotations(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for row in CSVTable.parse(text) where row != [""] {
        FuzzSupport.check(CSVTable.parse(CSVTable.line(row)) == [row],
                          "CSV row does not survive a round trip: \(row)")
    }
    let annotations: [String: [Annotation]]
    do {
        annotations = try Annotation.parse(text, name: "cells.csv")
    } catch {
        let message = "\(error)"
        FuzzSupport.check(message.hasPrefix("cells.csv: ") && FuzzSupport.isOneLine(message),
                          "error is not one line naming the file: \(message)")
        return 0
    }
    for (image, list) in annotations {
        let validation = FieldValidation(image: image, segmentation: field, annotations: list)
        FuzzSupport.check(validation.matched <= min(validation.annotated, validation.detected),
                          "more matches than cells")
    }
    return 0
}

/// A 64×48 field with a counted round cell, a border cell and a leukocyte.
let field: SegmentationResult = {
    func disc(_ diameter: Int) -> BinaryImage {
        let r = Double(diameter) / 2
        var mask = BinaryImage(width: diameter, height: diameter)
        for y in 0..<diameter {
            for x in 0..<diameter {
                let dx = Double(x) + 0.5 - r, dy = Double(y) + 0.5 - r
                if dx * dx + dy * dy <= r * r { mask.bits[y * diameter + x] = 1 }
            }
        }
        return mask
    }
    return SegmentationResult(width: 64, height: 48, objects: [
        DetectedObject(id: 1, x: 0, y: 4, mask: disc(10), status: .border),
        DetectedObject(id: 2, x: 20, y: 10, mask: disc(12), status: .counted),
        DetectedObject(id: 3, x: 40, y: 24, mask: disc(16), status: .leukocyte),
    ], cellDiameter: 12, diameterEstimated: false, workingScale: 1)
}()
