import Foundation
import Pipeline

/// What `smear validate` writes and says about a slide beyond its figures: every annotation and
/// counted cell with what became of it (`slides/NAME/matches.csv`), and one line on the tiles and the
/// annotations left out.
public enum ValidationMatches {
    /// `matches.csv`: `object,id,x,y,width,height,class,p_parasitized,status,match,field`, one line per
    /// annotation of the slide (`object` = annotation, `id` its 1-based position among the slide's
    /// lines of the annotation file, the box or point as given, `status` matched / missed / ignored:
    /// REASON, `match` the id of the cell it matched), then one per counted cell of the counted tiles
    /// (`object` = cell, `id` as in `smear analyze`'s cells.csv, its box, its call and probability,
    /// `status` matched / unmatched, `match` the annotation's id). `field` names the row the object
    /// counts in (`SLIDE#FIELD` for a mosaic). Cost: one line per object.
    public static func csv(_ result: SlideValidation.Result) -> String {
        var lines = [CSVTable.line(["object", "id", "x", "y", "width", "height", "class", "p_parasitized", "status", "match", "field"])]
        lines.reserveCapacity(1 + result.annotations.count + result.detections.count)
        for (i, a) in result.annotations.enumerated() {
            let (status, match): (String, String) = switch result.outcomes[i] {
            case .matched(let detection): ("matched", String(detection))
            case .missed: ("missed", "")
            case .ignored(let reason): ("ignored: \(reason)", "")
            }
            lines.append(CSVTable.line(["annotation", String(i + 1), number(a.x), number(a.y), a.width.map(number) ?? "",
                                        a.height.map(number) ?? "", a.kind.rawValue, "", status, match, result.annotationFrames[i] ?? ""]))
        }
        for (d, frame) in zip(result.detections, result.detectionFrames) {
            let match = result.matchedDetections[d.id]
            lines.append(CSVTable.line(["cell", String(d.id), String(d.x), String(d.y), String(d.width), String(d.height),
                                        d.call.map { $0.parasitized ? "parasitized" : "uninfected" } ?? "",
                                        d.call.map { String(format: "%.4f", $0.pParasitized) } ?? "",
                                        match == nil ? "unmatched" : "matched", match.map { String($0 + 1) } ?? "", frame ?? ""]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line: the tiles counted, and how many annotations the figures count and why the others are
    /// left out (`mosaic.tiff: 40 of 40 tiles counted; 6593 of 7114 annotations validated, left out:
    /// 521 field edge`).
    public static func summary(_ result: SlideValidation.Result) -> String {
        var ignored: [String: Int] = [:]
        for case .ignored(let reason) in result.outcomes { ignored[reason, default: 0] += 1 }
        let left = ignored.values.reduce(0, +)
        var line = "\(result.slide): \(result.tilesCounted) of \(result.tilesAnalysed) tiles counted; "
            + "\(result.annotations.count - left) of \(result.annotations.count) annotations validated"
        if left > 0 {
            line += ", left out: " + ignored.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        return line
    }

    /// `value` without a fractional part when it has none ("424", not "424.0").
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
