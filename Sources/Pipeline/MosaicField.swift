import Foundation

/// Where one microscope field lies in a slide built from fields (`smear-bench make-slide` writes them
/// as `fields.csv` beside the slide). Validating such a slide, an annotation is judged against the
/// edges of the field it was made in, as it would be in that field alone (`SlideValidation`).
///
/// The file is CSV with the header `image,field,x,y,width,height`, one line per placed field: `image`
/// the slide's file name (as in the slide's `cells.csv`), `field` the field's file name, and the
/// field's rectangle in the slide's level-0 pixels (top-left corner and size, cut to the slide).
public struct MosaicField: Sendable, Equatable {
    /// The field's file name.
    public var field: String
    /// Its rectangle in the slide.
    public var rect: TileGrid.Rect

    public init(field: String, rect: TileGrid.Rect) {
        self.field = field
        self.rect = rect
    }

    static let header = ["image", "field", "x", "y", "width", "height"]

    /// Reads the file at `path` if it is a field placement file (its first line holds the columns of
    /// `header`, in any order), grouped by slide file name (see `parse`); nil if it is another kind of
    /// file, such as annotations. Throws `PipelineError` naming `path` if it cannot be read, is not
    /// UTF-8, or is a malformed placement file.
    public static func load(csv path: String) throws(PipelineError) -> [String: [MosaicField]]? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PipelineError("\(path): cannot read the annotation file")
        }
        return isPlacement(text) ? try parse(text, name: path) : nil
    }

    /// Whether `text` starts with a field placement header (the columns of `header`, in any order).
    static func isPlacement(_ text: String) -> Bool {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        return Set(header).isSubset(of: CSVTable.parse(String(firstLine)).first ?? [])
    }

    /// Parses a `fields.csv`, grouped by slide file name, in file order; `name` is the file named in
    /// errors. Throws `PipelineError` when a column is missing, and with the line number on a line too
    /// short, with a coordinate that is not an integer, or with a size under 1 px.
    public static func parse(_ text: String, name: String) throws(PipelineError) -> [String: [MosaicField]] {
        let rows = CSVTable.parse(text)
        let col = Dictionary((rows.first ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let columns = header.compactMap { col[$0] }
        guard columns.count == header.count else {
            throw PipelineError("\(name): not a field placement file (expected the header \(header.joined(separator: ",")))")
        }
        var bySlide: [String: [MosaicField]] = [:]
        for (index, row) in rows.enumerated().dropFirst() where !(row.count == 1 && row[0].isEmpty) {
            guard row.count > columns.max()!, let x = Int(row[columns[2]]), let y = Int(row[columns[3]]),
                  let w = Int(row[columns[4]]), let h = Int(row[columns[5]]), w >= 1, h >= 1 else {
                throw PipelineError("\(name): line \(index + 1) is malformed")
            }
            bySlide[row[columns[0]], default: []].append(MosaicField(field: row[columns[1]], rect: TileGrid.Rect(x: x, y: y, width: w, height: h)))
        }
        return bySlide
    }

    /// The text of a `fields.csv` placing `fields` in the slide named `slide`.
    public static func csv(slide: String, _ fields: [MosaicField]) -> String {
        let lines = [CSVTable.line(header)] + fields.map { f in
            CSVTable.line([slide, f.field, String(f.rect.x), String(f.rect.y), String(f.rect.width), String(f.rect.height)])
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
