import CTIFF

/// TIFF reading through libtiff, first page (directory) only.
///
/// Unsigned 8- and 16-bit grey (min-is-black or min-is-white) and RGB with interleaved samples, in strips
/// or tiles, with any codec libtiff was built with (none, LZW, Deflate, PackBits, JPEG — JPEG-in-TIFF
/// YCbCr is converted to RGB by libjpeg), are read sample by sample: 16-bit values are rounded to
/// `v·255/65535`. Everything else libtiff's RGBA interface understands (palette, 1/2/4-bit, separate
/// planes, CMYK, CIELab, YCbCr without JPEG, …) goes through `TIFFReadRGBAImageOriented`. Alpha is
/// composited onto white; the Orientation tag is applied like the EXIF one. Float samples and other
/// layouts libtiff cannot convert are `.unsupported`.
enum TIFFDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> RGBImage {
        // libtiff rejects a zero width or height with indirect messages ("Computed scanline size is zero");
        // look at IFD0 first to say so plainly.
        if let ifd0 = TIFFStructure(bytes), let width = ifd0.value(of: 256), let height = ifd0.value(of: 257),
           width == 0 || height == 0 {
            throw ImageError(.zeroSized, file: name, "TIFF image has zero size (\(width)×\(height))")
        }
        // Caps libtiff's own buffers (strips, tiles, offset arrays): 16-bit RGBA at the pixel limit.
        let (limit, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
        let handle = TIFFMemoryHandle(bytes: bytes,
                                      maxSingleAllocation: overflow ? Int.max : max(limit, 64 << 20))
        guard let tiff = handle.tiff else { throw failure(handle, name: name) }
        let width = Int(handle.uint32Field(TIFFTAG_IMAGEWIDTH) ?? 0)
        let height = Int(handle.uint32Field(TIFFTAG_IMAGELENGTH) ?? 0)
        try checkDimensions(width: width, height: height, maxPixels: maxPixels, file: name, format: "TIFF")

        let orientation = Int(handle.uint16Field(TIFFTAG_ORIENTATION) ?? 1)
        let image: RGBImage
        if let layout = directLayout(handle) {
            image = try readDirect(handle, tiff, layout: layout, width: width, height: height, name: name)
        } else {
            image = try readRGBA(handle, tiff, width: width, height: height,
                                 orientation: UInt16(orientation), name: name)
        }
        return EXIFOrientation.apply(orientation, to: image)
    }

    // MARK: - Direct path: 8/16-bit grey or RGB, interleaved

    /// How one pixel's samples are laid out, for the images read sample by sample.
    private typealias Layout = TIFFSampleLayout

    /// The layout if the direct path handles this directory, else `nil`. For JPEG-compressed YCbCr this
    /// also asks libjpeg to deliver RGB.
    private static func directLayout(_ handle: TIFFMemoryHandle) -> Layout? {
        guard let bits = handle.uint16Field(TIFFTAG_BITSPERSAMPLE), bits == 8 || bits == 16,
              let samples = handle.uint16Field(TIFFTAG_SAMPLESPERPIXEL),
              let photometric = handle.uint16Field(TIFFTAG_PHOTOMETRIC),
              handle.uint16Field(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT) == UInt16(SAMPLEFORMAT_UINT)
        else { return nil }
        let interleaved = samples == 1
            || handle.uint16Field(TIFFTAG_PLANARCONFIG) ?? UInt16(PLANARCONFIG_CONTIG) == UInt16(PLANARCONFIG_CONTIG)
        guard interleaved else { return nil }
        let channels: UInt16
        switch Int32(photometric) {
        case PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_MINISWHITE: channels = 1
        case PHOTOMETRIC_RGB: channels = 3
        case PHOTOMETRIC_YCBCR where handle.uint16Field(TIFFTAG_COMPRESSION) == UInt16(COMPRESSION_JPEG) && bits == 8:
            handle.setField(TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)
            channels = 3
        default: return nil
        }
        guard samples >= channels else { return nil }
        var alpha = Layout.Alpha.none
        if samples > channels {
            switch handle.extraSamples().first.map(Int32.init) {
            case EXTRASAMPLE_ASSOCALPHA?: alpha = .associated
            case EXTRASAMPLE_UNASSALPHA?: alpha = .unassociated
            default: alpha = .none
            }
        }
        return Layout(sixteenBit: bits == 16, samplesPerPixel: Int(samples), grey: channels == 1,
                      minIsWhite: Int32(photometric) == PHOTOMETRIC_MINISWHITE, alpha: alpha)
    }

    private static func readDirect(_ handle: TIFFMemoryHandle, _ tiff: OpaquePointer, layout: Layout,
                                   width: Int, height: Int, name: String) throws(ImageError) -> RGBImage {
        let count = width * height * 3
        var failed = false
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = buffer.baseAddress!
            failed = TIFFIsTiled(tiff) != 0
                ? !readTiles(handle, tiff, layout: layout, width: width, height: height, into: out)
                : !readStrips(handle, tiff, layout: layout, width: width, height: height, into: out)
            initialized = count
        }
        if failed { throw failure(handle, name: name) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Decodes every strip into `out` (`3·width·height` bytes). `false` on a libtiff error.
    private static func readStrips(_ handle: TIFFMemoryHandle, _ tiff: OpaquePointer, layout: Layout,
                                   width: Int, height: Int, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        let rowsPerStrip = min(Int(handle.uint32Field(TIFFTAG_ROWSPERSTRIP) ?? UInt32.max), height)
        let rowBytes = Int(TIFFScanlineSize(tiff)), stripBytes = Int(TIFFStripSize(tiff))
        guard rowBytes > 0, stripBytes >= rowBytes * rowsPerStrip,
              let strip = _TIFFmalloc(tmsize_t(stripBytes)) else { return false }
        defer { _TIFFfree(strip) }
        for (index, firstRow) in stride(from: 0, to: height, by: rowsPerStrip).enumerated() {
            let rows = min(rowsPerStrip, height - firstRow)
            guard TIFFReadEncodedStrip(tiff, UInt32(index), strip, tmsize_t(rows * rowBytes)) >= 0 else { return false }
            for row in 0..<rows {
                layout.convert(strip + row * rowBytes, count: width, to: out + (firstRow + row) * width * 3)
            }
        }
        return true
    }

    /// Decodes every tile into `out` (`3·width·height` bytes). `false` on a libtiff error.
    private static func readTiles(_ handle: TIFFMemoryHandle, _ tiff: OpaquePointer, layout: Layout,
                                  width: Int, height: Int, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let tileWidth = handle.uint32Field(TIFFTAG_TILEWIDTH).map(Int.init), tileWidth > 0,
              let tileHeight = handle.uint32Field(TIFFTAG_TILELENGTH).map(Int.init), tileHeight > 0
        else { return false }
        let rowBytes = Int(TIFFTileRowSize(tiff)), tileBytes = Int(TIFFTileSize(tiff))
        guard rowBytes > 0, tileBytes >= rowBytes * tileHeight,
              let tile = _TIFFmalloc(tmsize_t(tileBytes)) else { return false }
        defer { _TIFFfree(tile) }
        for y in stride(from: 0, to: height, by: tileHeight) {
            for x in stride(from: 0, to: width, by: tileWidth) {
                let index = TIFFComputeTile(tiff, UInt32(x), UInt32(y), 0, 0)
                guard TIFFReadEncodedTile(tiff, index, tile, tmsize_t(tileBytes)) >= 0 else { return false }
                let columns = min(tileWidth, width - x)
                for row in 0..<min(tileHeight, height - y) {
                    layout.convert(tile + row * rowBytes, count: columns, to: out + ((y + row) * width + x) * 3)
                }
            }
        }
        return true
    }

    // MARK: - General path: libtiff's RGBA conversion

    /// Reads through `TIFFReadRGBAImageOriented` in the file's own row order (so that the caller applies
    /// the orientation, including the transposing ones libtiff ignores), compositing alpha onto white.
    private static func readRGBA(_ handle: TIFFMemoryHandle, _ tiff: OpaquePointer, width: Int, height: Int,
                                 orientation: UInt16, name: String) throws(ImageError) -> RGBImage {
        var reason = [CChar](repeating: 0, count: 1024)
        guard TIFFRGBAImageOK(tiff, &reason) != 0 else {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError(.unsupported, file: name, "unsupported TIFF variant (libtiff: \(text.oneLine))")
        }
        let count = width * height
        guard let raster = _TIFFmalloc(tmsize_t(count * 4))?.assumingMemoryBound(to: UInt32.self) else {
            throw ImageError(.tooLarge, file: name, "cannot allocate \(count * 4) bytes for \(width)×\(height) TIFF")
        }
        defer { _TIFFfree(raster) }
        guard TIFFReadRGBAImageOriented(tiff, UInt32(width), UInt32(height), raster, Int32(orientation), 1) != 0 else {
            throw failure(handle, name: name)
        }
        let pixels = [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            for i in 0..<count {
                // ABGR packed: R in the low byte; colour is premultiplied, so add the uncovered white.
                let v = raster[i], uncovered = 255 - (v >> 24)
                out[3 * i] = UInt8(min(255, (v & 0xFF) + uncovered))
                out[3 * i + 1] = UInt8(min(255, ((v >> 8) & 0xFF) + uncovered))
                out[3 * i + 2] = UInt8(min(255, ((v >> 16) & 0xFF) + uncovered))
            }
            initialized = count * 3
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The error for a failed libtiff call: `.truncated` if libtiff read past the end of the data.
    private static func failure(_ handle: TIFFMemoryHandle, name: String) -> ImageError {
        let detail = handle.firstError.map { " (libtiff: \($0.oneLine))" } ?? ""
        if handle.readPastEnd {
            return ImageError(.truncated, file: name, "truncated TIFF data\(detail)")
        }
        return ImageError(.corrupt, file: name, "corrupt TIFF data\(detail)")
    }
}
