import Foundation
import ImageCodecs
import Pipeline
import PropertyBased
import Segmentation

/// Generators of the inputs that rendering and the report pages must survive: images from 1 px to
/// thousands of pixels on a side, names of any script and length, and detections, calls and
/// annotations with any coordinates, sizes, ids and probabilities.
enum Hostile {
    /// Pieces that break naive text handling: markup and script, quotes and entities, line ends and
    /// other control characters (NUL, ESC sequences, C1), path syntax, URL syntax, multi-scalar
    /// graphemes (emoji sequences, flags, combining marks), bidirectional overrides, other scripts,
    /// and ordinary camera and LIMS names.
    static let fragments: [String] = [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</td></tr></table>", "<!--", "-->",
        "\"", "'", "\"><b>", "&", "&amp;", "&lt;", "&#0;",
        "\n", "\r", "\r\n", "\t", "\0", "\u{1B}[31m", "\u{7F}", "\u{85}", "\u{9B}", "\u{2028}",
        "/", "..", ".", "../../etc/passwd", "~", "\\",
        "#", "?", "%", "%2F", "%00", " ", "javascript:", "a b", "?x=1#y",
        "e\u{301}", "\u{301}", "a\u{300}\u{301}\u{302}\u{303}", "👨‍👩‍👧‍👦", "🇫🇷", "💩", "👍🏽",
        "\u{202E}", "\u{200F}", "\u{200B}", "\u{FEFF}", "שלום", "مرحبا", "日本語", "한국어", "Ωμέγα", "ß", "İ",
        "PA171690_patient42_field_0001.JPG", "P042_IMG_20201017_165041.JPG", "field", "_cell_7",
    ]

    /// A random Unicode scalar: ASCII (controls included), Latin-1, anywhere in the BMP outside the
    /// surrogates, or among emoji. Never "⟪" or "⟫", which the page tests use as markers.
    static func scalar(_ rng: inout any SeededRandomNumberGenerator) -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0xFF, 0x100...0xD7FF, 0xE000...0xFFFD, 0x1F300...0x1FAFF]
        while true {
            let range = ranges.randomElement(using: &rng)!
            if let s = Unicode.Scalar(UInt32.random(in: range, using: &rng)), s != "⟪", s != "⟫" { return s }
        }
    }

    /// A name of 0 to `maxLength` characters built from fragments and random scalars.
    static func name(_ rng: inout any SeededRandomNumberGenerator, maxLength: Int = 500) -> String {
        let target = Int.random(in: 0...maxLength, using: &rng)
        var s = ""
        while s.count < target {
            if Bool.random(using: &rng) { s += fragments.randomElement(using: &rng)! } else { s.unicodeScalars.append(scalar(&rng)) }
        }
        return String(s.prefix(target))
    }

    /// Image sizes: the extremes (1×1, 1×5000, 5000×1, 4000×3000) and ordinary field sizes now and
    /// then, otherwise random sizes from 1 to 700 px a side.
    static let imageSizes = Generator<(width: Int, height: Int), Shrink.None<(width: Int, height: Int)>> { rng in
        switch Int.random(in: 0..<24, using: &rng) {
        case 23: return (4000, 3000)
        case 0: return (1, 1)
        case 1: return (1, 5000)
        case 2: return (5000, 1)
        case 3: return (640, 480)
        case 4: return (1280, 960)
        case 5...9: return (Int.random(in: 1...40, using: &rng), Int.random(in: 1...40, using: &rng))
        default: return (Int.random(in: 1...700, using: &rng), Int.random(in: 1...700, using: &rng))
        }
    }

    /// A field of one grey that no drawing colour uses, so every drawn pixel shows.
    static func field(width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: [UInt8](repeating: 77, count: 3 * width * height))
    }

    /// A coordinate: mostly near the image (some just outside), sometimes far away or at the limits of `Int`.
    static func coordinate(_ rng: inout any SeededRandomNumberGenerator, extent: Int) -> Int {
        switch Int.random(in: 0..<40, using: &rng) {
        case 0: return Int.max
        case 1: return Int.min
        case 2: return Int.max - Int.random(in: 0...100, using: &rng)
        case 3: return Int.min + Int.random(in: 0...100, using: &rng)
        case 4: return Int.random(in: -(1 << 50)...(1 << 50), using: &rng)
        default: return Int.random(in: -extent / 2 - 20...extent + extent / 2 + 20, using: &rng)
        }
    }

    /// A double as annotation files give them: ordinary values near the image, and NaN, ±∞, ±1e300,
    /// negative values, and values past the range of `Int`.
    static func double(_ rng: inout any SeededRandomNumberGenerator, extent: Int) -> Double {
        switch Int.random(in: 0..<24, using: &rng) {
        case 0: return .nan
        case 1: return .infinity
        case 2: return -.infinity
        case 3: return 1e300
        case 4: return -1e300
        case 5: return 1e19
        case 6: return -Double(Int.random(in: 0...50, using: &rng))
        default: return Double.random(in: -20...Double(extent + 20), using: &rng)
        }
    }

    /// A mask of the given size: full, empty, a disc, or random bits.
    static func mask(_ rng: inout any SeededRandomNumberGenerator, width: Int, height: Int) -> BinaryImage {
        var bits = [UInt8](repeating: 0, count: width * height)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: bits = [UInt8](repeating: 1, count: width * height)
        case 1: break
        case 2:
            for y in 0..<height {
                for x in 0..<width {
                    let dx = 2 * x + 1 - width, dy = 2 * y + 1 - height
                    if dx * dx * height * height + dy * dy * width * width <= width * width * height * height { bits[y * width + x] = 1 }
                }
            }
        default:
            for i in bits.indices where Bool.random(using: &rng) { bits[i] = 1 }
        }
        return BinaryImage(width: width, height: height, bits: bits)
    }

    /// A detection anywhere (inside, across the border, far outside the image), with any id (mostly up to
    /// 100,000, one in five up to ±Int.max) and status,
    /// a mask of 0 to `maxSide` px a side; now and then its centroid is NaN, ±∞ or huge, its width and
    /// height disagree with its mask, or its mask's bits do not fill the mask.
    static func object(_ rng: inout any SeededRandomNumberGenerator, width: Int, height: Int, maxSide: Int) -> DetectedObject {
        let w = Int.random(in: 0...maxSide, using: &rng), h = Int.random(in: 0...maxSide, using: &rng)
        let id = switch Int.random(in: 0..<10, using: &rng) {
        case 0: Int.random(in: Int.min...Int.max, using: &rng)
        case 1: Int.random(in: 1...Int.max, using: &rng)
        default: Int.random(in: 1...100_000, using: &rng)
        }
        var o = DetectedObject(id: id, x: coordinate(&rng, extent: width), y: coordinate(&rng, extent: height),
                               mask: mask(&rng, width: w, height: h), status: ObjectStatus.allCases.randomElement(using: &rng)!)
        switch Int.random(in: 0..<30, using: &rng) {
        case 0: o.centroidX = .nan
        case 1: o.centroidY = -.infinity
        case 2: o.centroidX = 1e300
        case 3: o.width = Int.max; o.height = 3
        case 4: o.mask.bits = [1, 1, 1]
        default: break
        }
        return o
    }

    /// `count` objects with ids 1…`count` or random ones, as `object` makes them.
    static func objects(_ rng: inout any SeededRandomNumberGenerator, count: Int, width: Int, height: Int, maxSide: Int) -> [DetectedObject] {
        (0..<count).map { _ in object(&rng, width: width, height: height, maxSide: maxSide) }
    }

    /// A probability as a broken model might give it: mostly 0–1, sometimes NaN, ±∞, 1e300 or negative.
    static func probability(_ rng: inout any SeededRandomNumberGenerator) -> Double {
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return .nan
        case 1: return .infinity
        case 2: return 1e300
        case 3: return -0.5
        default: return Double.random(in: 0...1, using: &rng)
        }
    }

    /// Classifier calls for some of the objects (for objects' ids, and a few for ids no object has).
    static func calls(_ rng: inout any SeededRandomNumberGenerator, for objects: [DetectedObject]) -> [Int: CellCall] {
        var calls: [Int: CellCall] = [:]
        for o in objects where Int.random(in: 0..<3, using: &rng) > 0 {
            calls[o.id] = CellCall(pParasitized: probability(&rng), parasitized: Bool.random(using: &rng))
        }
        if Bool.random(using: &rng) { calls[Int.random(in: Int.min...Int.max, using: &rng)] = CellCall(pParasitized: 0.9, parasitized: true) }
        return calls
    }

    /// Grad-CAM maps for some objects: one value per mask pixel (NaN, ±∞ and values outside 0–1
    /// among them), or of a wrong length.
    static func heatmaps(_ rng: inout any SeededRandomNumberGenerator, for objects: [DetectedObject]) -> [Int: [Float]] {
        var maps: [Int: [Float]] = [:]
        for o in objects where Bool.random(using: &rng) {
            let n = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: 0...5, using: &rng) : o.mask.bits.count
            maps[o.id] = (0..<n).map { _ in
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: return .nan
                case 1: return .infinity
                case 2: return -3
                default: return Float.random(in: 0...1, using: &rng)
                }
            }
        }
        return maps
    }
}
