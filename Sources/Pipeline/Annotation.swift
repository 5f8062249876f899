import Foundation

/// One expert annotation from a shared `cells.csv` (`image,x,y,width,height,class,source_label`):
/// a box (`x, y` = top-left corner) or, when width and height are empty, a point at the cell centre.
public struct Annotation: Sendable, Equatable {
    public enum Kind: String, Sendable { case uninfected, parasitized, leukocyte, platelet, unknown }
    public var image: String
    public var x: Double
    public var y: Double
    public var width: Double?
    public var height: Double?
    public var kind: Kind
    public var sourceLabel: String

    /// Whether the annotation is a red blood cell (uninfected, parasitized or of unknown stage).
    public var isRedCell: Bool { kind == .uninfected || kind == .parasitized || kind == .unknown }
    public var isBox: Bool { width != nil && height != nil }
    /// The centre of the box, or the point.
    public var center: (x: Double, y: Double) {
        if let w = width, let h = height { return (x + w / 2, y + h / 2) }
        return (x, y)
    }

    /// Reads a `cells.csv`, grouped by image file name (see `parse`). Throws `PipelineError` naming `path`
    /// if the file cannot be read or is not UTF-8, and with the line number on a malformed line.
    public static func load(csv path: String) throws -> [String: [Annotation]] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PipelineError("\(path): cannot read the annotation file")
        }
        return try parse(text, name: path)
    }

    /// Parses the text of a `cells.csv`, grouped by image file name; `name` is the file named in errors.
    ///
    /// Columns are found by the header's names in any order (the first of duplicated names counts);
    /// `source_label` is optional. Empty lines are skipped. Empty or non-numeric `width`/`height` make the
    /// annotation a point. Throws `PipelineError` if a required column is missing, and with the line
    /// number on a line whose `x`/`y` is not a number, whose `class` is unknown, or that is too short.
    public static func parse(_ text: String, name: String) throws -> [String: [Annotation]] {
        let rows = CSVTable.parse(text)
        let col = Dictionary((rows.first ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        guard let ci = col["image"], let cx = col["x"], let cy = col["y"], let cw = col["width"], let ch = col["height"],
              let cc = col["class"] else {
            throw PipelineError("\(name): not an annotation file (expected the header image,x,y,width,height,class,source_label)")
        }
        let cs = col["source_label"]
        var byImage: [String: [Annotation]] = [:]
        for (index, row) in rows.enumerated().dropFirst() where !(row.count == 1 && row[0].isEmpty) {
            guard row.count > max(ci, cx, cy, cw, ch, cc), let x = Double(row[cx]), let y = Double(row[cy]),
                  let kind = Kind(rawValue: row[cc]) else {
                throw PipelineError("\(name): line \(index + 1) is malformed")
            }
            let w = Double(row[cw]), h = Double(row[ch])
            byImage[row[ci], default: []].append(Annotation(
                image: row[ci], x: x, y: y, width: w, height: h, kind: kind,
                sourceLabel: cs.map { $0 < row.count ? row[$0] : "" } ?? ""))
        }
        return byImage
    }
}

/// A failure of the pipeline that is not an image decoding or segmentation error; one line.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
