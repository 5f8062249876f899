import Foundation
import ImageCodecs
import Pipeline
import PropertyBased
import Segmentation
import Testing
@testable import Reports

/// Overlays drawn from generated fields, names and detections (Hostile): they never trap, keep the
/// field's size under a header band that holds the legend within the image width, and change field
/// pixels only where an object or its labels are drawn.
@Suite struct OverlayPropertyTests {
    /// One generated overlay input.
    struct Scene: Sendable {
        var field: RGBImage
        var name: String
        var segmentation: SegmentationResult
        var calls: [Int: CellCall]
        var heatmaps: [Int: [Float]]
    }

    /// Scenes of the sizes of `Hostile.imageSizes` with 0 to `maxObjects` objects (at most 5 on images
    /// over a megapixel) of up to `maxSide` px a side, with or without classifier calls.
    static func scenes(maxObjects: Int, maxSide: Int = 40) -> Generator<Scene, Shrink.None<Scene>> {
        Generator { rng in
            let size = Hostile.imageSizes.run(using: &rng)
            let limit = size.width * size.height > 1_000_000 ? min(5, maxObjects) : maxObjects
            let objects = Hostile.objects(&rng, count: Int.random(in: 0...limit, using: &rng), width: size.width,
                                          height: size.height, maxSide: maxSide)
            let classified = Bool.random(using: &rng)
            return Scene(field: Hostile.field(width: size.width, height: size.height), name: Hostile.name(&rng),
                         segmentation: SegmentationResult(width: size.width, height: size.height, objects: objects, cellDiameter: 40,
                                                          diameterEstimated: true, workingScale: 1),
                         calls: classified ? Hostile.calls(&rng, for: objects) : [:],
                         heatmaps: classified ? Hostile.heatmaps(&rng, for: objects) : [:])
        }
    }

    /// A half-open box in doubles (exact for pixel coordinates; far-away boxes stay far away).
    struct Box {
        var x0: Double, y0: Double, x1: Double, y1: Double
    }

    /// Where drawing `o` may change pixels, as the README describes it: inside its mask's box (outline,
    /// tint), its id in 5×7 glyphs centred at its centroid with a 1 px halo, and for a cell called
    /// parasitized its probability ("%.2f") at the drawing scale, centred under its box with a halo.
    static func zones(of o: DetectedObject, call: CellCall?, scale s: Int) -> [Box] {
        let maskValid = o.mask.bits.count == o.mask.width * o.mask.height
        var zones: [Box] = []
        if maskValid {
            zones.append(Box(x0: Double(o.x), y0: Double(o.y), x1: Double(o.x) + Double(o.mask.width), y1: Double(o.y) + Double(o.mask.height)))
        }
        guard !o.centroidX.isNaN, !o.centroidY.isNaN else { return zones }
        let cx = o.centroidX.rounded(.towardZero), cy = o.centroidY.rounded(.towardZero)
        let idWidth = Double(6 * String(o.id).count - 1)
        let idLeft = cx - Double(Int(idWidth) / 2)
        zones.append(Box(x0: idLeft - 1, y0: cy - 4, x1: idLeft + idWidth + 1, y1: cy + 5))
        if let call, call.parasitized, maskValid {
            let text = String(format: "%.2f", call.pParasitized)
            let w = Double(6 * s * text.count - s), left = cx - Double(Int(w) / 2)
            let top = Double(o.y) + Double(o.mask.height) + 2
            zones.append(Box(x0: left - Double(s), y0: top - Double(s), x1: left + w + Double(s), y1: top + Double(8 * s)))
        }
        return zones
    }

    /// Pixels of `after` (its rows from `rowOffset` on) that differ from `field` and lie in none of
    /// `zones` (the first five), and the number of pixels that differ.
    static func strayPixels(_ field: RGBImage, _ after: RGBImage, rowOffset: Int, zones: [Box]) -> (stray: [(x: Int, y: Int)], changed: Int) {
        let w = field.width, h = field.height
        var allowed = [Bool](repeating: false, count: w * h)
        for z in zones {
            let x0 = Int(max(0, min(Double(w), z.x0))), x1 = Int(max(0, min(Double(w), z.x1)))
            let y0 = Int(max(0, min(Double(h), z.y0))), y1 = Int(max(0, min(Double(h), z.y1)))
            guard x0 < x1, y0 < y1 else { continue }
            for y in y0..<y1 { for x in x0..<x1 { allowed[y * w + x] = true } }
        }
        return changedPixels(field, after, rowOffset: rowOffset) { x, y in !allowed[y * w + x] }
    }

    /// Pixels of `after` (its rows from `rowOffset` on) that differ from `field` and are `stray` (the
    /// first five), and the number of pixels that differ. Rows are compared whole first (cheap for big
    /// fields).
    static func changedPixels(_ field: RGBImage, _ after: RGBImage, rowOffset: Int,
                              stray isStray: (Int, Int) -> Bool) -> (stray: [(x: Int, y: Int)], changed: Int) {
        let w = field.width
        var stray: [(x: Int, y: Int)] = [], changed = 0
        field.pixels.withUnsafeBufferPointer { a in
            after.pixels.withUnsafeBufferPointer { b in
                for y in 0..<field.height {
                    let rowA = a.baseAddress! + 3 * y * w, rowB = b.baseAddress! + 3 * (y + rowOffset) * w
                    guard memcmp(rowA, rowB, 3 * w) != 0 else { continue }
                    for x in 0..<w where memcmp(rowA + 3 * x, rowB + 3 * x, 3) != 0 {
                        changed += 1
                        if stray.count < 5 && isStray(x, y) { stray.append((x, y)) }
                    }
                }
            }
        }
        return (stray, changed)
    }

    /// Checks the header band of `out` against the legend laid out for `entries`: the band has the
    /// layout's height, every item lies inside it and within the image width, every entry is there
    /// whole or abbreviated in the middle (all of them once the image is wide enough for a swatch and
    /// a glyph), and no band pixel outside the items differs from the band colour.
    static func checkHeader(_ out: RGBImage, field: RGBImage, entries: [Overlay.LegendEntry], scale: Int) {
        let layout = Overlay.layoutLegend(entries, width: field.width, scale: scale)
        #expect(out.width == field.width)
        #expect(out.height == field.height + layout.height)
        #expect(layout.height >= 15 * scale)
        LegendLayoutPropertyTests.checkLayout(layout, entries: entries, width: field.width, scale: scale)
        let textHeight = 7 * scale
        var inItem = [Bool](repeating: false, count: field.width * layout.height)
        for item in layout.items {
            for y in item.y..<(item.y + textHeight) { for x in item.x..<(item.x + item.width) { inItem[y * field.width + x] = true } }
        }
        var strays = 0
        for y in 0..<layout.height {
            for x in 0..<field.width where !inItem[y * field.width + x] && out[x, y] != Overlay.bandColor { strays += 1 }
        }
        #expect(strays == 0, "band pixels drawn outside the legend's items")
    }

    @Test func anyDetectionsChangeOnlyTheirOwnPixelsUnderAWholeHeader() async {
        await propertyCheck(count: 70, input: Self.scenes(maxObjects: 40)) { scene in
            let out = Overlay.render(scene.field, name: scene.name, segmentation: scene.segmentation,
                                     calls: scene.calls, heatmaps: scene.heatmaps)
            let scale = Overlay.drawingScale(of: scene.field)
            Self.checkHeader(out, field: scene.field, entries: Overlay.legend(name: scene.name, segmentation: scene.segmentation, calls: scene.calls),
                             scale: scale)
            guard out.height >= scene.field.height else { return }
            let zones = scene.segmentation.objects.flatMap { Self.zones(of: $0, call: scene.calls[$0.id], scale: scale) }
            let (stray, changed) = Self.strayPixels(scene.field, out, rowOffset: out.height - scene.field.height, zones: zones)
            #expect(stray.isEmpty, "field pixels changed away from every object: \(stray)")
            if scene.segmentation.objects.isEmpty { #expect(changed == 0) }
        }
    }

    /// 100,000 small detections, ids up to Int.max, many across the border or far outside: one run on
    /// a field drawn at scale 1 and one on a field whose shorter side (960 px or more) draws it at 2.
    @Test(arguments: [(200...1300, 200...959), (960...1300, 960...1000)])
    func aHundredThousandDetections(widths: ClosedRange<Int>, heights: ClosedRange<Int>) async {
        let scenes = Generator<Scene, Shrink.None<Scene>> { rng in
            let (w, h) = (Int.random(in: widths, using: &rng), Int.random(in: heights, using: &rng))
            let objects = Hostile.objects(&rng, count: 100_000, width: w, height: h, maxSide: 6)
            let calls = Hostile.calls(&rng, for: objects)
            return Scene(field: Hostile.field(width: w, height: h), name: Hostile.name(&rng),
                         segmentation: SegmentationResult(width: w, height: h, objects: objects, cellDiameter: 8, diameterEstimated: true, workingScale: 1),
                         calls: calls, heatmaps: Hostile.heatmaps(&rng, for: objects))
        }
        await propertyCheck(count: 1, input: scenes) { scene in
            let out = Overlay.render(scene.field, name: scene.name, segmentation: scene.segmentation,
                                     calls: scene.calls, heatmaps: scene.heatmaps)
            let scale = Overlay.drawingScale(of: scene.field)
            Self.checkHeader(out, field: scene.field, entries: Overlay.legend(name: scene.name, segmentation: scene.segmentation, calls: scene.calls),
                             scale: scale)
            let zones = scene.segmentation.objects.flatMap { Self.zones(of: $0, call: scene.calls[$0.id], scale: scale) }
            #expect(Self.strayPixels(scene.field, out, rowOffset: out.height - scene.field.height, zones: zones).stray.isEmpty)
        }
    }

    @Test func aLegendWiderThanTheFieldWrapsInsteadOfCrashing() {
        // The field of issue 9 under the name that crashed analyze, with the classifier's legend.
        let entries: [Overlay.LegendEntry] = [("PA171690_patient42_field_0001.JPG", nil), ("uninfected 145", (0, 220, 60)),
                                               ("parasitized 4 (2.68% of 149)", (255, 30, 30)), ("border 31", (70, 110, 255)),
                                               ("leukocyte 1", (255, 150, 0)), ("debris 16", (150, 150, 150))]
        let big = Overlay.layoutLegend(entries, width: 1280, scale: 2)
        #expect(big.items.map(\.text) == entries.map(\.text))
        #expect(big.height == 52)   // two lines at scale 2: 8 + 14 + 8 + 14 + 8
        #expect(Set(big.items.map(\.y)) == [8, 30])
        let small = Overlay.layoutLegend(entries, width: 640, scale: 1)
        #expect(small.items.map(\.text) == entries.map(\.text))
        #expect(small.height == 26)
        // An ordinary short legend stays on one line of 15 px, as before.
        #expect(Overlay.layoutLegend([("PA171690.JPG", nil), ("counted 149", (0, 220, 60))], width: 640, scale: 1).height == 15)
        // A name wider than the field is abbreviated in the middle, a count is broken at a space, and
        // each gets a line of its own.
        let narrow = Overlay.layoutLegend(entries, width: 120, scale: 1)
        #expect(narrow.items.map(\.text) == ["PA171690_…0001.JPG", "uninfected 145", "parasitized 4", "(2.68% of 149)", "border 31",
                                             "leukocyte 1", "debris 16"])
        #expect(narrow.items.map(\.y) == [4, 15, 26, 37, 48, 59, 70])
        #expect(narrow.height == 81)
        #expect(narrow.items.allSatisfy { $0.x + $0.width <= 116 })
    }

    @Test func everyTinyFieldGetsAnOverlay() {
        for (w, h) in [(1, 1), (2, 3), (4, 4), (12, 9), (13, 40), (30, 30), (479, 2)] {
            let field = Hostile.field(width: w, height: h)
            let object = DetectedObject(id: Int.max, x: -3, y: -3, mask: BinaryImage(width: 8, height: 8, bits: [UInt8](repeating: 1, count: 64)),
                                        status: .counted)
            let segmentation = SegmentationResult(width: w, height: h, objects: [object], cellDiameter: 8, diameterEstimated: true, workingScale: 1)
            let out = Overlay.render(field, name: "PA171690_patient42_field_0001.JPG", segmentation: segmentation,
                                     calls: [Int.max: CellCall(pParasitized: 0.97, parasitized: true)])
            #expect(out.width == w && out.height >= h + 15)
        }
    }

    /// The parasitized cell's gallery picture: the box grown by half its size, clipped to the field,
    /// at least one pixel, whatever the object.
    @Test func galleryPicturesOfAnyObject() async {
        let cases = Generator<(Scene, Int), Shrink.None<(Scene, Int)>> { rng in
            let scene = Self.scenes(maxObjects: 20).run(using: &rng)
            return (scene, Int.random(in: 0..<max(1, scene.segmentation.objects.count), using: &rng))
        }
        await propertyCheck(count: 60, input: cases) { scene, index in
            guard index < scene.segmentation.objects.count else { return }
            let o = scene.segmentation.objects[index]
            let picture = ParasitizedGallery.picture(of: o, in: scene.field)
            #expect(picture.width >= 1 && picture.height >= 1)
            #expect(picture.width <= max(1, scene.field.width) && picture.height <= max(1, scene.field.height))
            // An object wholly inside the field: exactly its grown box, clipped.
            let w = o.mask.width, h = o.mask.height
            if o.mask.bits.count == w * h, o.x >= 0, o.y >= 0, o.x <= scene.field.width - w, o.y <= scene.field.height - h, w > 0, h > 0 {
                #expect(picture.width == min(scene.field.width, o.x + w + w / 2) - max(0, o.x - w / 2))
                #expect(picture.height == min(scene.field.height, o.y + h + h / 2) - max(0, o.y - h / 2))
            }
        }
    }
}

/// The header layout alone, for any entries, widths from 0 to 5000 px and scales 1 to 6.
@Suite struct LegendLayoutPropertyTests {
    /// Every item lies inside the band and the image width; items keep the entries' order; each entry
    /// is there whole, or abbreviated in the middle, or broken at spaces over several items (a word too
    /// wide for a line abbreviated); an entry is left out only when the band cannot hold a swatch and
    /// a glyph (or one glyph, for entries without a swatch), or when it is all spaces.
    static func checkLayout(_ layout: Overlay.LegendLayout, entries: [Overlay.LegendEntry], width: Int, scale s: Int) {
        for item in layout.items {
            #expect(item.x >= 0 && item.y >= 0 && item.x + item.width <= width && item.y + 7 * s <= layout.height - 4 * s,
                    "item \(item.text.debugDescription) at \(item.x),\(item.y) of width \(item.width) outside \(width)×\(layout.height)")
            #expect(item.width == (item.swatch == nil ? 0 : 9 * s) + BitmapFont.width(of: item.text, scale: s))
        }
        #expect(layout.items.map(\.entry) == layout.items.map(\.entry).sorted())
        let room = width - 8 * s
        for (index, entry) in entries.enumerated() {
            let pieces = layout.items.filter { $0.entry == index }.map(\.text)
            if pieces.isEmpty {
                #expect(!entry.text.contains { $0 != " " } || room < (entry.swatch == nil ? 5 * s : 14 * s),
                        "entry \(entry.text.debugDescription) left out")
            } else {
                #expect(pieces == [entry.text] || (pieces.count == 1 && isAbbreviation(pieces[0], of: entry.text)) || isWrapping(pieces, of: entry.text),
                        "\(pieces) do not show \(entry.text.debugDescription)")
            }
        }
    }

    /// Whether `short` is `long`, or a beginning of `long`, "…", and an end of `long` (compared by
    /// Unicode scalars).
    static func isAbbreviation(_ short: String, of long: String) -> Bool {
        if short == long { return true }
        let s = Array(short.unicodeScalars), l = Array(long.unicodeScalars)
        return s.indices.contains { i in
            s[i] == "…" && s.count - 1 < l.count && l.starts(with: s[..<i]) && l.reversed().starts(with: s[(i + 1)...].reversed())
        }
    }

    /// Whether `pieces` are the words of `text` (split at runs of spaces) in order, each piece a run of
    /// whole words joined by single spaces or one word abbreviated in the middle.
    static func isWrapping(_ pieces: [String], of text: String) -> Bool {
        var words = text.split(separator: " ").map(String.init)[...]
        for piece in pieces {
            guard let word = words.popFirst() else { return false }
            if piece != word && isAbbreviation(piece, of: word) { continue }
            var run = word
            while run != piece, run.utf8.count < piece.utf8.count, let next = words.popFirst() { run += " " + next }
            if run != piece { return false }
        }
        return words.isEmpty
    }

    static let entries = Generator<[Overlay.LegendEntry], Shrink.None<[Overlay.LegendEntry]>> { rng in
        (0..<Int.random(in: 0...8, using: &rng)).map { _ in
            (Hostile.name(&rng, maxLength: Int.random(in: 0...3, using: &rng) == 0 ? 500 : 30),
             Bool.random(using: &rng) ? (UInt8.random(in: 0...255, using: &rng), 0, 0) : nil)
        }
    }

    static let widths = Generator<Int, Shrink.None<Int>> { rng in
        Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0...40, using: &rng) : Int.random(in: 0...5000, using: &rng)
    }

    @Test func anyEntriesFitTheBand() async {
        await propertyCheck(count: 300, input: Self.entries, Self.widths, Gen.int(in: 1...6)) { entries, width, scale in
            let layout = Overlay.layoutLegend(entries, width: width, scale: scale)
            Self.checkLayout(layout, entries: entries, width: width, scale: scale)
            // Lines are full: an entry of one item starts a line only when it would not fit after the one before.
            for (a, b) in zip(layout.items, layout.items.dropFirst()) where b.y > a.y && layout.items.filter({ $0.entry == b.entry }).count == 1 {
                #expect(a.x + a.width + 16 * scale + b.width > width - 8 * scale || width < 8 * scale)
            }
        }
    }
}

/// The bitmap font on any text: one glyph per character (grapheme cluster), "?" for those it has
/// no glyph for, `width(of:)` the extent of what `draw` writes, and clipping that writes exactly the
/// part of the text inside the image.
@Suite struct BitmapFontPropertyTests {
    /// `text` with each character the font has no glyph for replaced by "?".
    static func substituted(_ text: String) -> String {
        String(text.map { BitmapFont.glyphs[$0] == nil ? "?" : $0 })
    }

    static func drawn(_ text: String, width: Int, height: Int, x: Int, y: Int, scale: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        BitmapFont.draw(text, on: &image, x: x, y: y, scale: scale, color: (255, 255, 255), halo: (9, 9, 9))
        return image
    }

    @Test func unknownCharactersDrawAsQuestionMarksAndWidthCoversTheDrawing() async {
        let texts = Generator<String, Shrink.None<String>> { rng in Hostile.name(&rng, maxLength: 40) }
        await propertyCheck(count: 150, input: texts, Gen.int(in: 1...3)) { text, scale in
            let plain = Self.substituted(text)
            let width = BitmapFont.width(of: text, scale: scale)
            #expect(plain.count == text.count)
            #expect(width == BitmapFont.width(of: plain, scale: scale))
            #expect(width == max(0, (6 * text.count - 1) * scale))
            // Drawn with a halo of `scale` px at (scale, scale): nothing beyond width + halo.
            let a = Self.drawn(text, width: width + 4 * scale, height: 9 * scale + 2, x: scale, y: scale, scale: scale)
            #expect(a == Self.drawn(plain, width: width + 4 * scale, height: 9 * scale + 2, x: scale, y: scale, scale: scale))
            for y in 0..<a.height {
                for x in (width + 2 * scale)..<a.width { #expect(a[x, y] == (0, 0, 0)) }
            }
        }
    }

    @Test func clippingKeepsExactlyThePartInsideTheImage() async {
        let cases = Generator<(String, Int, Int, Int, Int), Shrink.None<(String, Int, Int, Int, Int)>> { rng in
            (Hostile.name(&rng, maxLength: 12), Int.random(in: 1...30, using: &rng), Int.random(in: 1...30, using: &rng),
             Int.random(in: -90...40, using: &rng), Int.random(in: -30...40, using: &rng))
        }
        await propertyCheck(count: 150, input: cases, Gen.int(in: 1...2)) { c, scale in
            let (text, w, h, x, y) = c
            let margin = 100
            let small = Self.drawn(text, width: w, height: h, x: x, y: y, scale: scale)
            let big = Self.drawn(text, width: w + 2 * margin, height: h + 2 * margin, x: x + margin, y: y + margin, scale: scale)
            var crop = RGBImage(width: w, height: h)
            for yy in 0..<h { for xx in 0..<w { crop[xx, yy] = big[xx + margin, yy + margin] } }
            #expect(small == crop)
        }
    }

    @Test func theHaloIsTheRingOfPixelsAroundEachGlyphPixel() {
        var image = RGBImage(width: 9, height: 9)
        BitmapFont.draw("-", on: &image, x: 1, y: 1, scale: 1, color: (255, 255, 255), halo: (9, 9, 9))
        for y in 0..<9 {
            for x in 0..<9 {
                let expected: (UInt8, UInt8, UInt8) = y == 4 && (1...5).contains(x) ? (255, 255, 255) : (3...5).contains(y) && (0...6).contains(x) ? (9, 9, 9) : (0, 0, 0)
                #expect(image[x, y] == expected, "\(x), \(y)")
            }
        }
    }

    @Test func textFarOutsideOrHugeDrawsNothingAndDoesNotTrap() {
        let long = String(repeating: "8", count: 100_000)
        for (x, y, scale) in [(Int.max, 0, Int.max), (Int.min, 0, Int.max), (0, Int.max, Int.max), (0, Int.min, Int.max),
                              (1 << 41, 1 << 41, 1), (-600_000, 0, 1), (-600_000, 0, Int.min)] {
            var image = RGBImage(width: 20, height: 20)
            BitmapFont.draw(long, on: &image, x: x, y: y, scale: scale, color: (255, 255, 255), halo: (1, 1, 1))
            #expect(image == RGBImage(width: 20, height: 20), "\(x), \(y) at scale \(scale)")
        }
        // Just inside: the last glyph's halo reaches column 0.
        var edge = RGBImage(width: 20, height: 20)
        BitmapFont.draw(long, on: &edge, x: -599_999, y: 0, scale: 1, color: (255, 255, 255), halo: (1, 1, 1))
        #expect(edge != RGBImage(width: 20, height: 20))
        #expect(BitmapFont.width(of: "e\u{301}👨‍👩‍👧‍👦\r\n", scale: 1) == BitmapFont.width(of: "???", scale: 1))
        #expect(BitmapFont.abbreviated("PA171690_patient42_field_0001.JPG", toWidth: 59, scale: 1) == "PA171….JPG")
        #expect(BitmapFont.abbreviated("abc", toWidth: 4, scale: 1) == "")
        #expect(BitmapFont.abbreviated("abc", toWidth: 5, scale: 1) == "…")
    }
}
