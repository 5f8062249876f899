import Testing
import ImageCodecs
import Segmentation

@Suite struct DetectedObjectTests {
    /// An L-shaped object in a 4×3 box at (5, 2):
    /// ```
    /// #...
    /// #...
    /// ###.
    /// ```
    static let object = DetectedObject(id: 1, x: 5, y: 2, mask: TestImages.binary([
        "#...",
        "#...",
        "###.",
    ]), status: .counted)

    @Test func areaAndCentroid() {
        let o = Self.object
        #expect(o.area == 5)
        #expect(o.width == 4 && o.height == 3)
        // Mask pixels (0,0), (0,1), (0,2), (1,2), (2,2): mean x = 3/5, mean y = 7/5.
        #expect(abs(o.centroidX - (5 + 0.6)) < 1e-12)
        #expect(abs(o.centroidY - (2 + 1.4)) < 1e-12)
    }

    @Test func emptyMaskCentroidIsTheBoxCentre() {
        let o = DetectedObject(id: 1, x: 10, y: 20, mask: BinaryImage(width: 4, height: 6), status: .debris)
        #expect(o.area == 0)
        #expect(o.centroidX == 12 && o.centroidY == 23)
    }

    @Test func containsUsesImageCoordinates() {
        let o = Self.object
        #expect(o.contains(x: 5, y: 2))
        #expect(o.contains(x: 7, y: 4))
        #expect(!o.contains(x: 6, y: 2))   // in the box, not in the mask
        #expect(!o.contains(x: 8, y: 4))   // last column of the box is empty
        #expect(!o.contains(x: 4, y: 4))   // left of the box
        #expect(!o.contains(x: 5, y: 5))   // below the box
        #expect(!o.contains(x: 0, y: 0))
    }

    @Test func cropKeepsMaskPixelsAndBlackensTheRest() {
        var field = RGBImage(width: 12, height: 8)
        for y in 0..<8 { for x in 0..<12 { field[x, y] = (UInt8(10 + x), UInt8(100 + y), 200) } }
        let o = Self.object
        let crop = o.crop(from: field)
        #expect(crop.width == 4 && crop.height == 3)
        for my in 0..<3 {
            for mx in 0..<4 {
                let got = crop[mx, my]
                if o.mask[mx, my] {
                    let want = field[o.x + mx, o.y + my]
                    #expect(got == want, "(\(mx), \(my))")
                } else {
                    #expect(got == (0, 0, 0), "(\(mx), \(my))")
                }
            }
        }
    }

    @Test func aBoxPartlyOrWhollyOutsideTheFieldCropsBlackThere() {
        var field = RGBImage(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { field[x, y] = (UInt8(10 * x + y + 1), 0, 0) } }
        let full = BinaryImage(width: 2, height: 2, bits: [1, 1, 1, 1])
        // Box at (2, 1): only its top-left pixel lies in the field.
        #expect(DetectedObject(id: 1, x: 2, y: 1, mask: full, status: .border).crop(from: field).pixels
                == [22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        // Box at (-1, -1): only its bottom-right pixel lies in the field.
        #expect(DetectedObject(id: 1, x: -1, y: -1, mask: full, status: .border).crop(from: field).pixels
                == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
        for (x, y) in [(5, 0), (0, 9), (-2, 0), (Int.min, Int.min), (Int.max, 0)] {
            #expect(DetectedObject(id: 1, x: x, y: y, mask: full, status: .border).crop(from: field).pixels == [UInt8](repeating: 0, count: 12))
        }
    }

    @Test func cropOfABoxAtTheFieldCorner() {
        var field = RGBImage(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { field[x, y] = (UInt8(x), UInt8(y), 7) } }
        let full = BinaryImage(width: 2, height: 2, bits: [1, 1, 1, 1])
        let crop = DetectedObject(id: 1, x: 1, y: 0, mask: full, status: .border).crop(from: field)
        #expect(crop.pixels == [1, 0, 7, 2, 0, 7, 1, 1, 7, 2, 1, 7])
    }

    /// The ring crop against a plain reference: output pixel (ox, oy) of the box grown by r shows field
    /// pixel (x − r + ox, y − r + oy) when that lies in the field and some mask pixel lies within r
    /// (Euclidean) of it, and black otherwise. Random masks, boxes partly outside the field, r 0…9
    /// (both of `dilate`'s paths).
    @Test func ringCropMatchesThePlainDefinition() {
        var rng = SeededGenerator(seed: 20261201)
        for _ in 0 ..< 400 {
            let fw = Int.random(in: 1...30, using: &rng), fh = Int.random(in: 1...30, using: &rng)
            var field = RGBImage(width: fw, height: fh)
            for i in field.pixels.indices { field.pixels[i] = UInt8.random(in: 1...255, using: &rng) }
            let mw = Int.random(in: 1...12, using: &rng), mh = Int.random(in: 1...12, using: &rng)
            let density = Double.random(in: 0...1, using: &rng)
            let mask = BinaryImage(width: mw, height: mh, bits: (0 ..< mw * mh).map { _ in Double.random(in: 0..<1, using: &rng) < density ? 1 : 0 })
            let o = DetectedObject(id: 1, x: Int.random(in: -14...fw + 2, using: &rng), y: Int.random(in: -14...fh + 2, using: &rng),
                                   mask: mask, status: .counted)
            let r = Int.random(in: 0...9, using: &rng)
            let crop = o.crop(from: field, ring: r)
            #expect(crop.width == mw + 2 * r && crop.height == mh + 2 * r)
            var want = RGBImage(width: crop.width, height: crop.height)
            for oy in 0 ..< crop.height {
                for ox in 0 ..< crop.width {
                    let fx = o.x - r + ox, fy = o.y - r + oy
                    guard fx >= 0, fy >= 0, fx < fw, fy < fh else { continue }
                    var near = false
                    for my in 0 ..< mh { for mx in 0 ..< mw where mask[mx, my] {
                        let dx = mx + r - ox, dy = my + r - oy
                        if dx * dx + dy * dy <= r * r { near = true }
                    } }
                    if near { want[ox, oy] = field[fx, fy] }
                }
            }
            #expect(crop == want, "field \(fw)×\(fh), mask \(mw)×\(mh) at (\(o.x), \(o.y)), ring \(r)")
        }
    }

    @Test func aRingAroundABoxAtTheEdgeOfTheCoordinatesIsBlack() {
        let field = RGBImage(width: 4, height: 4, fill: (9, 9, 9))
        let full = BinaryImage(width: 2, height: 2, bits: [1, 1, 1, 1])
        #expect(DetectedObject(id: 1, x: Int.min, y: 0, mask: full, status: .border).crop(from: field, ring: 3).pixels.allSatisfy { $0 == 0 })
    }
}
