import Foundation
import ImageCodecs
import Pipeline
import Segmentation

/// Collects, while fields are analysed, a picture of every cell called parasitized — the cell with
/// a margin of its surroundings and its outline — for the gallery of `report.html`. Thread-safe.
public final class ParasitizedGallery: @unchecked Sendable {
    public struct Item: Sendable {
        public var field: String
        public var overlay: String
        public var id: Int
        public var pParasitized: Double
        public var centroidX: Double
        public var centroidY: Double
        /// The picture's path relative to the output folder.
        public var picture: String
    }

    private var collected: [Item] = []
    private let lock = NSLock()

    public init() {}

    /// The items so far, by field then id.
    public var items: [Item] {
        lock.lock(); defer { lock.unlock() }
        return collected.sorted { ($0.field, $0.id) < ($1.field, $1.id) }
    }

    /// Writes `cells/STEM_cell_ID.png` (`cellFileName`: STEM is the overlay's) for each parasitized
    /// cell of `field` into `folder` and records it. Cost: one small PNG per parasitized cell.
    public func add(field: FieldAnalysis, image: RGBImage, overlay: String, to folder: OutputFolder) throws {
        var items: [Item] = []
        for object in field.segmentation.objects {
            guard let call = field.calls[object.id], call.parasitized else { continue }
            let picture = "cells/" + cellFileName(overlay: overlay, id: object.id)
            try folder.write(Data(ImageCodecs.encodePNG(Self.picture(of: object, in: image))), to: picture)
            items.append(Item(field: field.name, overlay: overlay, id: object.id, pParasitized: call.pParasitized,
                              centroidX: object.centroidX, centroidY: object.centroidY, picture: picture))
        }
        lock.lock()
        collected += items
        lock.unlock()
    }

    /// The object's box grown by half its size on each side, clipped to the field, with the object
    /// outlined in red. An object with no part of that box in the field (or a malformed mask) gets a
    /// single black pixel, so every parasitized call keeps its place in the gallery.
    /// Cost: the picture's pixels.
    static func picture(of object: DetectedObject, in image: RGBImage) -> RGBImage {
        guard let mask = MaskPlacement(object) else { return RGBImage(width: 1, height: 1) }
        let mx = mask.width / 2, my = mask.height / 2
        let columns = PixelGeometry.visible(offset: mask.x - mx, length: mask.width + 2 * mx, bound: image.width)
        let rows = PixelGeometry.visible(offset: mask.y - my, length: mask.height + 2 * my, bound: image.height)
        guard !columns.isEmpty, !rows.isEmpty else { return RGBImage(width: 1, height: 1) }
        let x0 = mask.x - mx + columns.lowerBound, y0 = mask.y - my + rows.lowerBound
        var out = RGBImage(width: columns.count, height: rows.count)
        for y in 0..<rows.count {
            let from = 3 * ((y0 + y) * image.width + x0)
            out.pixels.replaceSubrange((3 * y * out.width)..<(3 * (y + 1) * out.width),
                                       with: image.pixels[from..<(from + 3 * out.width)])
        }
        var shifted = object
        shifted.x = mask.x - x0
        shifted.y = mask.y - y0
        Overlay.drawOutline(shifted, on: &out, color: Overlay.parasitizedColor, thickness: 1)
        return out
    }
}
