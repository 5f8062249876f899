import Foundation
import ImageCodecs
import Pipeline
import Segmentation

/// The per-slide files `ReportFolder` writes: the QuPath GeoJSON of the slide's cells and the quality
/// map of its tiles.
public enum SlideOutputs {
    /// The folder of a slide's own files: `slides/NAME/`, NAME the slide's safe stem (`overlayFileNames`).
    static func folder(of overlayName: String) -> String {
        "slides/" + ((overlayName as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// How far (px) a GeoJSON outline may stray from the traced one (`simplifiedPolygon`): under a
    /// pixel, invisible at any zoom where a cell fills the screen, and the file about a third the size.
    static let outlineTolerance = 0.75

    /// A GeoJSON feature for one object of a tile whose region starts at `origin`, in QuPath's import
    /// shape: `Polygon` geometry (its outline, closed, in level-0 pixels, within `outlineTolerance` of
    /// the traced one), `properties.objectType`
    /// "detection", `classification` {name, color} — Parasitized / Uninfected / Red cell for counted
    /// cells (by call), Border / Leukocyte / Debris otherwise — and numeric `measurements` (area in px,
    /// p_parasitized when called); `properties.status` and `properties.id` as in cells.csv.
    public static func feature(_ o: DetectedObject, call: CellCall?, origin: (x: Int, y: Int)) -> String {
        var points = simplifiedPolygon(o.outline(), tolerance: outlineTolerance).map { "[\(Double(origin.x + $0.x) + 0.5),\(Double(origin.y + $0.y) + 0.5)]" }
        if let first = points.first { points.append(first) }
        if points.count < 4 { points = [] }   // a point or a line is no polygon: a box around it instead
        if points.isEmpty {
            let x0 = origin.x + o.x, y0 = origin.y + o.y, x1 = x0 + o.width, y1 = y0 + o.height
            points = ["[\(x0),\(y0)]", "[\(x1),\(y0)]", "[\(x1),\(y1)]", "[\(x0),\(y1)]", "[\(x0),\(y0)]"]
        }
        let (name, color): (String, Overlay.Color)
        switch (o.status, call?.parasitized) {
        case (.counted, true?): (name, color) = ("Parasitized", Overlay.parasitizedColor)
        case (.counted, false?): (name, color) = ("Uninfected", Overlay.color(of: .counted))
        case (.counted, nil): (name, color) = ("Red cell", Overlay.color(of: .counted))
        default: (name, color) = (o.status.rawValue.capitalized, Overlay.color(of: o.status))
        }
        var measurements = "\"area\":\(o.area)"
        if let call { measurements += String(format: ",\"p_parasitized\":%.4f", call.pParasitized) }
        return "{\"type\":\"Feature\",\"id\":\"cell-\(o.id)\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[\(points.joined(separator: ","))]]},"
            + "\"properties\":{\"objectType\":\"detection\",\"id\":\(o.id),\"status\":\"\(o.status.rawValue)\","
            + "\"classification\":{\"name\":\"\(name)\",\"color\":[\(color.0),\(color.1),\(color.2)]},"
            + "\"measurements\":{\(measurements)}}}"
    }

    /// Colours of the quality map: counted tiles green, tiles not analysed (the count reached its
    /// target first) light grey, and each reason a tile is not counted its own colour.
    static let counted: Overlay.Color = (40, 170, 80), notAnalysed: Overlay.Color = (225, 225, 225)
    static let reasonColors: [(prefix: String, color: Overlay.Color)] = [
        ("background", (250, 250, 250)), ("sparse", (140, 190, 255)), ("thick", (255, 160, 40)),
        ("out of focus", (170, 90, 220)), ("unreadable", (0, 0, 0)),
    ]
    /// Tiles that failed quality control for another reason.
    static let otherReason: Overlay.Color = (220, 30, 30)

    static func color(of unfit: String?) -> Overlay.Color {
        guard let unfit else { return counted }
        return reasonColors.first { unfit.hasPrefix($0.prefix) }?.color ?? otherReason
    }

    /// The quality map: one block per tile of the grid, coloured by what became of it, blocks sized so
    /// that the map is about 600 px across (at least 1 px per tile). Cost: O(map pixels).
    static func qualityMap(_ slide: SlideCount) -> RGBImage {
        let grid = slide.plan.grid
        let block = max(1, 600 / max(grid.columns, grid.rows))
        var map = RGBImage(width: grid.columns * block, height: grid.rows * block, fill: (notAnalysed.0, notAnalysed.1, notAnalysed.2))
        for tile in slide.tiles {
            let c = color(of: tile.unfit)
            for y in (tile.tile.row * block)..<((tile.tile.row + 1) * block) {
                for x in (tile.tile.column * block)..<((tile.tile.column + 1) * block) {
                    // A one-pixel grid line between large blocks.
                    let line = block >= 6 && (x % block == 0 || y % block == 0)
                    map[x, y] = line ? (200, 200, 200) : (c.0, c.1, c.2)
                }
            }
        }
        return map
    }
}
