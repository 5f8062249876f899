import CTIFF
import Foundation

/// Writes TIFF test files with libtiff (to a temporary file, which is read back and deleted).
enum TIFFTestEncoder {
    struct Options {
        var bitsPerSample: Int32 = 8
        var photometric: Int32 = PHOTOMETRIC_RGB
        var compression: Int32 = COMPRESSION_NONE
        /// Tile size (width = height, a multiple of 16), or `nil` for strips of `rowsPerStrip` rows.
        var tile: Int? = nil
        var rowsPerStrip = 16
        var separatePlanes = false
        /// `EXTRASAMPLE_*` of each sample after the colour channels.
        var extraSamples: [UInt16] = []
        var orientation: Int32 = ORIENTATION_TOPLEFT
        /// Motorola byte order (`MM`) instead of the host's.
        var bigEndian = false
        /// 16-bit red, green and blue tables for `PHOTOMETRIC_PALETTE`.
        var colormap: [[UInt16]] = []
        /// Pages written after the first, each a copy of it with inverted samples.
        var extraPages = 0
    }

    /// A TIFF holding `samples` (interleaved, `samplesPerPixel` values per pixel, row by row).
    static func encode(width: Int, height: Int, samplesPerPixel: Int, samples: [UInt16], _ options: Options) -> [UInt8] {
        precondition(samples.count == width * height * samplesPerPixel)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tiff-\(UUID().uuidString).tif")
        defer { try? FileManager.default.removeItem(at: url) }
        let tiff = TIFFOpen(url.path, options.bigEndian ? "wb" : "wl")!
        for page in 0...options.extraPages {
            let pageSamples = page == 0 ? samples : samples.map { UInt16((1 << options.bitsPerSample) - 1) - $0 }
            writePage(tiff, width: width, height: height, samplesPerPixel: samplesPerPixel,
                      samples: pageSamples, options)
            precondition(TIFFWriteDirectory(tiff) != 0)
        }
        TIFFClose(tiff)
        return [UInt8](try! Data(contentsOf: url))
    }

    private static func set(_ tiff: OpaquePointer, _ tag: Int32, _ values: CVarArg...) {
        let ok = withVaList(values) { TIFFVSetField(tiff, UInt32(tag), $0) }
        precondition(ok != 0, "TIFFSetField \(tag)")
    }

    private static func writePage(_ tiff: OpaquePointer, width: Int, height: Int, samplesPerPixel: Int,
                                  samples: [UInt16], _ o: Options) {
        set(tiff, TIFFTAG_IMAGEWIDTH, UInt32(width))
        set(tiff, TIFFTAG_IMAGELENGTH, UInt32(height))
        set(tiff, TIFFTAG_BITSPERSAMPLE, o.bitsPerSample)
        set(tiff, TIFFTAG_SAMPLESPERPIXEL, Int32(samplesPerPixel))
        set(tiff, TIFFTAG_PHOTOMETRIC, o.photometric)
        set(tiff, TIFFTAG_PLANARCONFIG, o.separatePlanes ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG)
        set(tiff, TIFFTAG_COMPRESSION, o.compression)
        set(tiff, TIFFTAG_ORIENTATION, o.orientation)
        if o.compression == COMPRESSION_JPEG {
            set(tiff, TIFFTAG_JPEGQUALITY, Int32(95))
            // YCbCr-in-JPEG, the usual form: libtiff converts the RGB we give it.
            if o.photometric == PHOTOMETRIC_YCBCR { set(tiff, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB) }
        }
        var extras = o.extraSamples
        if !extras.isEmpty {
            extras.withUnsafeMutableBufferPointer { set(tiff, TIFFTAG_EXTRASAMPLES, Int32($0.count), $0.baseAddress!) }
        }
        if !o.colormap.isEmpty {
            var (red, green, blue) = (o.colormap[0], o.colormap[1], o.colormap[2])
            red.withUnsafeMutableBufferPointer { r in
                green.withUnsafeMutableBufferPointer { g in
                    blue.withUnsafeMutableBufferPointer { b in
                        set(tiff, TIFFTAG_COLORMAP, r.baseAddress!, g.baseAddress!, b.baseAddress!)
                    }
                }
            }
        }
        // Pixel data in host order (libtiff swaps for a big-endian file), interleaved or one plane per sample.
        let planes = o.separatePlanes ? samplesPerPixel : 1
        let perPixel = samplesPerPixel / planes
        let bytesPerSample = Int(o.bitsPerSample) / 8
        func block(plane: Int, x0: Int, y0: Int, columns: Int, rows: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: columns * rows * perPixel * bytesPerSample)
            for y in 0..<rows where y0 + y < height {
                for x in 0..<columns where x0 + x < width {
                    for c in 0..<perPixel {
                        let v = samples[((y0 + y) * width + x0 + x) * samplesPerPixel + plane * perPixel + c]
                        let at = ((y * columns + x) * perPixel + c) * bytesPerSample
                        if bytesPerSample == 2 { withUnsafeBytes(of: v) { bytes[at] = $0[0]; bytes[at + 1] = $0[1] } }
                        else { bytes[at] = UInt8(v) }
                    }
                }
            }
            return bytes
        }
        if let tile = o.tile {
            set(tiff, TIFFTAG_TILEWIDTH, UInt32(tile))
            set(tiff, TIFFTAG_TILELENGTH, UInt32(tile))
            for plane in 0..<planes {
                for y in stride(from: 0, to: height, by: tile) {
                    for x in stride(from: 0, to: width, by: tile) {
                        var data = block(plane: plane, x0: x, y0: y, columns: tile, rows: tile)
                        let index = TIFFComputeTile(tiff, UInt32(x), UInt32(y), 0, UInt16(plane))
                        precondition(TIFFWriteEncodedTile(tiff, index, &data, tmsize_t(data.count)) >= 0)
                    }
                }
            }
        } else {
            set(tiff, TIFFTAG_ROWSPERSTRIP, UInt32(o.rowsPerStrip))
            for plane in 0..<planes {
                for y in stride(from: 0, to: height, by: o.rowsPerStrip) {
                    var data = block(plane: plane, x0: 0, y0: y, columns: width, rows: min(o.rowsPerStrip, height - y))
                    let index = TIFFComputeStrip(tiff, UInt32(y), UInt16(plane))
                    precondition(TIFFWriteEncodedStrip(tiff, index, &data, tmsize_t(data.count)) >= 0)
                }
            }
        }
    }
}
