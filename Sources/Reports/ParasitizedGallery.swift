import Foundation
import ImageCodecs
import Pipeline
import Segmentation

/// Collects, while fields and slide tiles are analysed, a picture of each cell called parasitized —
/// the cell with a margin of its surroundings and its outline — for the galleries of `report.html`:
/// every one of a field, and a sample of at most `perSlide` of a slide's (those of its counted tiles).
/// Thread-safe.
public final class ParasitizedGallery: @unchecked Sendable {
    public struct Item: Sendable {
        /// The field's name, or the slide's.
        public var field: String
        /// The field's overlay, or the slide's overlay TIFF (relative to the output folder).
        public var overlay: String
        /// For a cell of a slide, the slide's key in viewer links (`SlideViewer.link`); nil for a field.
        public var slide: String? = nil
        public var id: Int
        public var pParasitized: Double
        /// In the field's pixels, or the slide's.
        public var centroidX: Double
        public var centroidY: Double
        /// The picture's path relative to the output folder.
        public var picture: String
    }

    /// The most pictures kept of one slide's parasitized cells.
    public static let perSlide = 240

    private var collected: [Item] = []
    /// Each slide's sample so far (by key): its items, their pictures (PNG) and ranks; and how many
    /// parasitized cells it had.
    private var samples: [String: [(rank: UInt64, item: Item, png: [UInt8])]] = [:]
    private var slideTotals: [String: Int] = [:]
    private let lock = NSLock()

    public init() {}

    /// Parasitized cells of each slide's counted tiles (by key), whether or not in the sample.
    public var slideCounts: [String: Int] {
        lock.lock(); defer { lock.unlock() }
        return slideTotals
    }

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

    /// Offers the parasitized cells of a counted slide tile to its slide's sample: the `perSlide`
    /// cells of the slide with the smallest `rank` of their id, a fixed pseudo-random order, so the
    /// sample is spread over the slide and the same whatever order tiles come in. A picture is made
    /// (PNG, in memory: about 50 kB) only for a cell that enters the sample so far; `writeSlidePictures`
    /// writes the sample. `key` is the slide's key, `name` its name, `tiff` its overlay, `overlay` the
    /// name its cell pictures are named after (`cellFileName`). Cost: one small PNG per cell taken.
    public func add(tile: AnalysedTile, key: String, name: String, tiff: String, overlay: String) throws {
        guard tile.unfit == nil else { return }
        let origin = (x: Double(tile.tile.read.x), y: Double(tile.tile.read.y))
        for object in tile.field.segmentation.objects {
            guard let call = tile.field.calls[object.id], call.parasitized else { continue }
            let rank = Self.rank(object.id)
            lock.lock()
            slideTotals[key, default: 0] += 1
            let sample = samples[key] ?? []
            let wanted = sample.count < Self.perSlide || rank < sample.last!.rank
            lock.unlock()
            guard wanted else { continue }
            let png = try ImageCodecs.encodePNG(Self.picture(of: object, in: tile.image))
            let item = Item(field: name, overlay: tiff, slide: key, id: object.id, pParasitized: call.pParasitized,
                            centroidX: origin.x + object.centroidX, centroidY: origin.y + object.centroidY,
                            picture: "cells/" + cellFileName(overlay: overlay, id: object.id))
            lock.lock()
            var kept = samples[key] ?? []
            kept.insert((rank, item, png), at: kept.firstIndex { $0.rank > rank } ?? kept.count)
            if kept.count > Self.perSlide { kept.removeLast() }
            samples[key] = kept
            lock.unlock()
        }
    }

    /// Writes the pictures of every slide's sample into `folder` and adds them to `items`.
    public func writeSlidePictures(to folder: OutputFolder) throws {
        lock.lock()
        let all = samples.values.flatMap { $0 }
        samples = [:]
        lock.unlock()
        for entry in all { try folder.write(Data(entry.png), to: entry.item.picture) }
        lock.lock()
        collected += all.map(\.item)
        lock.unlock()
    }

    /// A fixed pseudo-random rank of cell `id` (SplitMix64's mix of it).
    static func rank(_ id: Int) -> UInt64 {
        var z = UInt64(bitPattern: Int64(id)) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The object's box grown by half its size on each side, clipped to the field, with the object
    /// outlined in red and, given its Grad-CAM map (`heat`, on the object's mask as `Overlay` takes
    /// it), tinted with it. An object with no part of that box in the field (or a malformed mask) gets
    /// a single black pixel, so every parasitized call keeps its place in the gallery.
    /// Cost: the picture's pixels.
    public static func picture(of object: DetectedObject, in image: RGBImage, heat: [Float]? = nil) -> RGBImage {
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
        if let heat { Overlay.tint(shifted, heat: heat, on: &out) }
        Overlay.drawOutline(shifted, on: &out, color: Overlay.parasitizedColor, thickness: 1)
        return out
    }
}
