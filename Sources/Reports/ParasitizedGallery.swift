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

    /// Writes `cells/<field>_cell_<id>.png` for each parasitized cell of `field` into `folder` and
    /// records it. Cost: one small PNG per parasitized cell.
    public func add(field: FieldAnalysis, image: RGBImage, overlay: String, to folder: OutputFolder) throws {
        let stem = (overlay as NSString).lastPathComponent.replacingOccurrences(of: ".png", with: "")
        var items: [Item] = []
        for object in field.segmentation.objects {
            guard let call = field.calls[object.id], call.parasitized else { continue }
            let picture = "cells/\(stem)_cell_\(object.id).png"
            try folder.write(Data(ImageCodecs.encodePNG(Self.picture(of: object, in: image))), to: picture)
            items.append(Item(field: field.name, overlay: overlay, id: object.id, pParasitized: call.pParasitized,
                              centroidX: object.centroidX, centroidY: object.centroidY, picture: picture))
        }
        lock.lock()
        collected += items
        lock.unlock()
    }

    /// The object's box grown by half its size on each side (clipped to the field), with the object
    /// outlined in red.
    static func picture(of object: DetectedObject, in image: RGBImage) -> RGBImage {
        let mx = object.width / 2, my = object.height / 2
        let x0 = max(0, object.x - mx), y0 = max(0, object.y - my)
        let x1 = min(image.width, object.x + object.width + mx), y1 = min(image.height, object.y + object.height + my)
        var out = RGBImage(width: x1 - x0, height: y1 - y0)
        for y in y0..<y1 {
            for x in x0..<x1 { out[x - x0, y - y0] = image[x, y] }
        }
        var shifted = object
        shifted.x -= x0
        shifted.y -= y0
        Overlay.drawOutline(shifted, on: &out, color: Overlay.parasitizedColor, thickness: 1)
        return out
    }
}
