import CTIFF
import Foundation
import ImageCodecs
import Slides
import Testing

/// The path of a file in `fixtures/slides/`.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/\(name)").path
}

/// A fresh, empty temporary folder for one test.
func temporaryFolder() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("slides-tests-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// An image with a distinct, non-smooth pattern in each channel (so that a pixel read from the wrong
/// place, level or tile shows), varied by `seed`.
func patterned(width: Int, height: Int, seed: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            image[x, y] = (UInt8(truncatingIfNeeded: x * 7 + y * 3 + seed * 40),
                           UInt8(truncatingIfNeeded: (x ^ y) * 5 + seed * 11),
                           UInt8(truncatingIfNeeded: (x * y + seed * 17) % 251))
        }
    }
    return image
}

/// A smooth image (gradients and soft discs) that JPEG reproduces closely, varied by `seed`.
func smooth(width: Int, height: Int, seed: Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            let dx = Double(x - width / 2 - seed * 5), dy = Double(y - height / 2)
            let disc = (dx * dx + dy * dy).squareRoot() < Double(min(width, height)) / 3 ? 60.0 : 0
            image[x, y] = (UInt8(clamping: 200 - Int(disc) + seed * 10), UInt8(clamping: 120 + x / 2),
                           UInt8(clamping: 90 + y / 2 + Int(disc)))
        }
    }
    return image
}

/// The largest absolute difference of any sample, and the mean absolute difference.
func difference(_ a: RGBImage, _ b: RGBImage) -> (max: Int, mean: Double) {
    precondition(a.width == b.width && a.height == b.height)
    var largest = 0, sum = 0
    for (p, q) in zip(a.pixels, b.pixels) {
        let d = abs(Int(p) - Int(q))
        largest = max(largest, d)
        sum += d
    }
    return (largest, Double(sum) / Double(max(1, a.pixels.count)))
}

/// Checks `error` is an `ImageError` of one line naming `file` first.
func expectOneLine(_ error: any Error, naming file: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = "\(error)"
    #expect(error is ImageError, "not an ImageError: \(text)", sourceLocation: sourceLocation)
    #expect(text.hasPrefix("\(file): "), "does not start with the file name: \(text)", sourceLocation: sourceLocation)
    #expect(!text.contains("\n") && !text.contains("\r"), "more than one line: \(text)", sourceLocation: sourceLocation)
}

/// Writes TIFFs of layouts `PyramidTIFFWriter` does not make, with libtiff directly.
enum TestTIFF {
    enum Pyramid { case subIFDs, reducedDirectories }

    /// Writes `levels` (largest first) as one TIFF: tiled with `tile` px tiles, or in strips of
    /// `rowsPerStrip` rows; 8 bits per sample, or 16 (`v·257`); further levels as SubIFDs of the first
    /// directory or as reduced-resolution directories after it; `extraPages` as ordinary (not reduced)
    /// directories at the end. `description` goes into the first ImageDescription; `resolution` is
    /// (ResolutionUnit, XResolution, YResolution).
    static func write(_ levels: [RGBImage], to path: String, tile: Int? = nil, rowsPerStrip: Int = 16,
                      sixteenBit: Bool = false, compression: Int32 = COMPRESSION_NONE, pyramid: Pyramid = .reducedDirectories,
                      extraPages: [RGBImage] = [], description: String? = nil,
                      resolution: (unit: Int32, x: Double, y: Double)? = nil, bigTIFF: Bool = false) {
        let tiff = TIFFOpen(path, bigTIFF ? "w8" : "w")!
        defer { TIFFClose(tiff) }
        func set(_ tag: Int32, _ value: Int32) { _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) } }
        func setDouble(_ tag: Int32, _ value: Double) { _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) } }
        func page(_ image: RGBImage, reduced: Bool, first: Bool) {
            set(TIFFTAG_SUBFILETYPE, reduced ? FILETYPE_REDUCEDIMAGE : 0)
            set(TIFFTAG_IMAGEWIDTH, Int32(image.width))
            set(TIFFTAG_IMAGELENGTH, Int32(image.height))
            set(TIFFTAG_BITSPERSAMPLE, sixteenBit ? 16 : 8)
            set(TIFFTAG_SAMPLESPERPIXEL, 3)
            set(TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG)
            set(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB)
            set(TIFFTAG_COMPRESSION, compression)
            if first, let description {
                _ = description.withCString { text in withVaList([text]) { TIFFVSetField(tiff, UInt32(TIFFTAG_IMAGEDESCRIPTION), $0) } }
            }
            if let resolution {
                set(TIFFTAG_RESOLUTIONUNIT, resolution.unit)
                setDouble(TIFFTAG_XRESOLUTION, resolution.x)
                setDouble(TIFFTAG_YRESOLUTION, resolution.y)
            }
            if first, pyramid == .subIFDs, levels.count > 1 {
                var offsets = [UInt64](repeating: 0, count: levels.count - 1)
                _ = offsets.withUnsafeMutableBufferPointer { buffer in
                    withVaList([Int32(levels.count - 1), buffer.baseAddress!]) { TIFFVSetField(tiff, UInt32(TIFFTAG_SUBIFD), $0) }
                }
            }
            func samples(_ x: Int, _ y: Int, _ count: Int) -> [UInt8] {
                var out: [UInt8] = []
                for i in 0..<count {
                    let px = min(x + i, image.width - 1), py = min(y, image.height - 1)
                    for c in 0..<3 {
                        let v = image.pixels[3 * (py * image.width + px) + c]
                        if sixteenBit { out += [v, v] } else { out.append(v) }  // v·257, either byte order
                    }
                }
                return out
            }
            if let tile {
                set(TIFFTAG_TILEWIDTH, Int32(tile))
                set(TIFFTAG_TILELENGTH, Int32(tile))
                for ty in stride(from: 0, to: image.height, by: tile) {
                    for tx in stride(from: 0, to: image.width, by: tile) {
                        var buffer: [UInt8] = []
                        for row in 0..<tile { buffer += samples(tx, ty + row, tile) }
                        let index = TIFFComputeTile(tiff, UInt32(tx), UInt32(ty), 0, 0)
                        _ = buffer.withUnsafeMutableBytes { TIFFWriteEncodedTile(tiff, index, $0.baseAddress, tmsize_t($0.count)) }
                    }
                }
            } else {
                set(TIFFTAG_ROWSPERSTRIP, Int32(rowsPerStrip))
                for (strip, y0) in stride(from: 0, to: image.height, by: rowsPerStrip).enumerated() {
                    var buffer: [UInt8] = []
                    for y in y0..<min(y0 + rowsPerStrip, image.height) { buffer += samples(0, y, image.width) }
                    _ = buffer.withUnsafeMutableBytes { TIFFWriteEncodedStrip(tiff, UInt32(strip), $0.baseAddress, tmsize_t($0.count)) }
                }
            }
            TIFFWriteDirectory(tiff)
        }
        for (index, level) in levels.enumerated() { page(level, reduced: index > 0, first: index == 0) }
        for extra in extraPages { page(extra, reduced: false, first: false) }
    }
}

extension Slide {
    /// A whole level, read in one region.
    func wholeLevel(_ level: Int) throws -> RGBImage {
        try region(x: 0, y: 0, width: levels[level].width, height: levels[level].height, level: level)
    }
}

/// Records an issue unless `a` and `b` have the same size and pixels; the message gives the sizes or the
/// largest and mean difference (not the images).
func expectSame(_ a: RGBImage, _ b: RGBImage, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.width == b.width && a.height == b.height else {
        Issue.record("\(what) sizes differ: \(a.width)×\(a.height) vs \(b.width)×\(b.height)", sourceLocation: sourceLocation)
        return
    }
    let d = difference(a, b)
    if d.max != 0 {
        Issue.record("\(what) pixels differ: largest difference \(d.max), mean \(d.mean)", sourceLocation: sourceLocation)
    }
}
