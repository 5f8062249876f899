import CTIFF
import Foundation
import ImageCodecs

/// Region reads from a TIFF, BigTIFF or OME-TIFF with libtiff: tile by tile for tiled levels, strip by
/// strip otherwise, never the whole image.
///
/// **Levels.** Level 0 is the first directory (IFD0). The reduced levels are IFD0's SubIFDs if it has any
/// (the OME-TIFF convention, also written by libvips and bfconvert), otherwise the later directories
/// of the main chain whose NewSubfileType has the reduced-resolution bit (OpenSlide's generic-tiff rule,
/// and what libvips, GDAL and this package's `PyramidTIFFWriter` write). Candidates that are not
/// smaller than level 0, or whose aspect ratio does not match it (a label or macro image), are left
/// out; the rest are sorted from largest to smallest.
///
/// **Pixels.** 8- and 16-bit RGB, RGBA and grey with interleaved samples are read as stored (16-bit
/// values rounded to `v·255/65535`), with any codec libtiff was built with (none, LZW, Deflate,
/// PackBits, JPEG, ZSTD, WebP…); JPEG-compressed YCbCr is converted to RGB by libjpeg. Any other layout
/// libtiff's RGBA interface understands (palette, separate planes, YCbCr without JPEG, CMYK, 1–4 bits…)
/// goes through `TIFFReadRGBATile`/`TIFFReadRGBAStrip`; there, Debian's libtiff 4.5.0 refuses
/// uncompressed tiles whose size is not a multiple of 1,024 bytes (a bug in its buffer-size check),
/// which is then an error, not wrong pixels. Alpha is composited onto white. The Orientation tag is
/// ignored (slides are stored top row first).
///
/// **Damage.** Every libtiff error is an `ImageError` naming the file; so is a libtiff *warning* raised
/// while a tile or strip is decoded (libjpeg's "premature end of data" and "corrupt data" are warnings
/// after which it fills in grey: accepting them would analyse made-up pixels).
///
/// **Threads.** Thread-safe: each read borrows a libtiff handle of its own from a small pool (opened on
/// first need on the one shared descriptor, preferring a handle whose directory is already the level
/// asked for), so reads on several threads decode in parallel. Up to `maxIdleHandles` idle handles are
/// kept; a handle that saw an error is closed, not reused.
final class TIFFSlideReader: @unchecked Sendable {
    let levels: [Level]
    let isBigTIFF: Bool
    let isOME: Bool
    let micronsPerPixel: (x: Double, y: Double)?

    private let file: SlideFile
    private let maxSingleAllocation: Int
    private let lock = NSLock()
    private var idle: [TIFFFileHandle] = []
    private static let maxIdleHandles = 4
    /// Decoded tiles kept between reads (`DecodedTileCache`), so overlapping regions decode a tile once:
    /// three rows of level 0's tiles across the slide (what a raster pass over it reuses), at most
    /// `maxTileCacheBytes`.
    private let tiles: DecodedTileCache
    /// The most `tiles` may hold: 256 MB, three rows of 512-px RGB tiles across a slide 56,000 px wide.
    static let maxTileCacheBytes = 256 << 20

    /// How one level is stored.
    struct Level: Sendable {
        /// Offset of its directory (IFD) in the file.
        var directory: UInt64
        var width: Int
        var height: Int
        var tiled: Bool
        /// Tile size, or the image width and rows per strip.
        var blockWidth: Int
        var blockHeight: Int
        /// Bytes of one decoded tile or strip (direct path), or of its RGBA raster.
        var blockBytes: Int
        /// Bytes of one decoded row of a block (direct path).
        var rowBytes: Int
        /// The sample layout read directly, or `nil` for libtiff's RGBA interface.
        var samples: Samples?
        /// JPEG-compressed YCbCr: libjpeg must be asked for RGB each time the directory is selected.
        var jpegYCbCr: Bool
    }

    /// An 8- or 16-bit interleaved pixel layout read sample by sample.
    typealias Samples = TIFFSampleLayout

    /// Reads the file's directories and checks every level can be read. Throws `.corrupt`/`.truncated`
    /// for a damaged header or directory chain, `.unsupported` for a level libtiff cannot decode, a
    /// colour layout it cannot convert, or blocks (tiles, strips) over `maxBlockBytes` decoded.
    /// Cost: the tags of every directory (not the tile offsets); no pixel is decoded.
    init(file: SlideFile, maxBlockBytes: Int) throws(ImageError) {
        self.file = file
        maxSingleAllocation = max(maxBlockBytes, 64 << 20)
        let handle = TIFFFileHandle(fd: file.fd, size: file.size, maxSingleAllocation: maxSingleAllocation)
        guard handle.tiff != nil else { throw handle.failure("cannot read the header", file: file.name) }
        let magic = file.bytes(at: 2, count: 2)
        isBigTIFF = magic == [0x2B, 0x00] || magic == [0x00, 0x2B]

        let description = handle.string(TIFFTAG_IMAGEDESCRIPTION)
        isOME = description.map(OMEXML.isOME) ?? false
        if isOME, let xml = description {
            micronsPerPixel = PixelSize.fromOMEXML(xml)
            let channels = OMEXML.firstElement(named: "Pixels", in: xml)?["SizeC"].flatMap { Int($0) } ?? 1
            if channels > 1 && handle.uint16(TIFFTAG_SAMPLESPERPIXEL) == 1 {
                throw ImageError(.unsupported, file: file.name,
                                 "OME-TIFF with its \(channels) channels in separate planes is not supported (only RGB)")
            }
        } else {
            micronsPerPixel = PixelSize.fromTIFF(unit: handle.uint16(TIFFTAG_RESOLUTIONUNIT) ?? 2,
                                                 x: handle.float(TIFFTAG_XRESOLUTION),
                                                 y: handle.float(TIFFTAG_YRESOLUTION))
        }
        let base = try Self.describe(handle, name: file.name, level: 0, maxBlockBytes: maxBlockBytes)
        // Reduced images this reader cannot decode (a 1-bit mask, an odd codec) are not taken as levels;
        // a directory that cannot be read at all is damage, and an error.
        var candidates: [Level] = []
        let subIFDs = handle.subIFDOffsets()
        if !subIFDs.isEmpty {
            for offset in subIFDs {
                handle.clearMessages()
                guard TIFFSetSubDirectory(handle.tiff, offset) != 0 else {
                    throw handle.failure("cannot read a SubIFD", file: file.name)
                }
                if let level = try? Self.describe(handle, name: file.name, level: 1, maxBlockBytes: maxBlockBytes) {
                    candidates.append(level)
                }
            }
        } else {
            // libtiff stops at a directory chain loop on its own; 10,000 bounds a long chain of pages.
            var index = 0
            while TIFFLastDirectory(handle.tiff) == 0 && index < 10_000 {
                index += 1
                handle.clearMessages()
                guard TIFFReadDirectory(handle.tiff) != 0 else {
                    throw handle.failure("cannot read directory \(index)", file: file.name)
                }
                let subfileType = handle.uint32(TIFFTAG_SUBFILETYPE, defaulted: false) ?? 0
                guard subfileType & UInt32(FILETYPE_REDUCEDIMAGE) != 0,
                      let level = try? Self.describe(handle, name: file.name, level: 1, maxBlockBytes: maxBlockBytes)
                else { continue }
                candidates.append(level)
            }
        }
        var levels = [base]
        for level in candidates.sorted(by: { $0.width > $1.width })
        where level.width < levels.last!.width && level.height <= levels.last!.height
            && Self.sameAspect(level, as: base) {
            levels.append(level)
        }
        self.levels = levels
        tiles = DecodedTileCache(capacity: min(Self.maxTileCacheBytes, 3 * (base.width + base.blockWidth - 1) / base.blockWidth * base.blockBytes))
        idle = [handle]
        handle.selectedLevel = nil  // the scan left it on the last directory read
    }

    /// Whether the TIFF in `file` is tiled, pyramidal (SubIFDs, or a reduced-resolution directory after
    /// the first) or larger than `fieldLimit` pixels; `false` if libtiff cannot open it. Cost: the first
    /// directory's tags, and the later directories' only for an untiled image within the limit, up to the
    /// first reduced one.
    static func isSlide(_ file: SlideFile, fieldLimit: Int) -> Bool {
        let handle = TIFFFileHandle(fd: file.fd, size: file.size, maxSingleAllocation: 64 << 20)
        guard let tiff = handle.tiff else { return false }
        let width = Int(handle.uint32(TIFFTAG_IMAGEWIDTH) ?? 0), height = Int(handle.uint32(TIFFTAG_IMAGELENGTH) ?? 0)
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if TIFFIsTiled(tiff) != 0 || overflow || pixels > fieldLimit || !handle.subIFDOffsets().isEmpty { return true }
        var index = 0
        while TIFFLastDirectory(tiff) == 0 && index < 10_000 && TIFFReadDirectory(tiff) != 0 {
            index += 1
            let subfileType = handle.uint32(TIFFTAG_SUBFILETYPE, defaulted: false) ?? 0
            if subfileType & UInt32(FILETYPE_REDUCEDIMAGE) != 0 { return true }
        }
        return false
    }

    /// Decodes the `width × height` region at (`x`, `y`) of `level` (in the level's pixels, inside it:
    /// the caller checks) into `out` (`3·width·height` bytes, RGB). Decodes each strip the region
    /// touches once, and each tile it touches unless a recent read decoded it (`DecodedTileCache`).
    /// Throws the `ImageError` of the first failure.
    func read(level index: Int, x: Int, y: Int, width: Int, height: Int,
              into out: UnsafeMutablePointer<UInt8>) throws(ImageError) {
        let level = levels[index]
        let handle = try borrow(level: index)
        handle.clearMessages()
        let region = Region(x: x, y: y, width: width, height: height)
        let failed: String?
        if level.tiled {
            failed = readTiles(handle, level, index, region, out)
        } else {
            let block = UnsafeMutableRawPointer.allocate(byteCount: level.blockBytes, alignment: 16)
            defer { block.deallocate() }
            failed = readStrips(handle, level, index, region, block, out)
        }
        if let failed { throw handle.failure(failed, file: file.name) }  // the handle is dropped
        giveBack(handle)
    }

    // MARK: - Handles

    private func borrow(level: Int) throws(ImageError) -> TIFFFileHandle {
        lock.lock()
        let found = idle.lastIndex { $0.selectedLevel == level } ?? (idle.isEmpty ? nil : idle.count - 1)
        let handle = found.map { idle.remove(at: $0) }
        lock.unlock()
        let ready = handle ?? TIFFFileHandle(fd: file.fd, size: file.size, maxSingleAllocation: maxSingleAllocation)
        guard ready.tiff != nil else { throw ready.failure("cannot read the header", file: file.name) }
        if ready.selectedLevel != level {
            ready.clearMessages()
            ready.selectedLevel = nil
            guard TIFFSetSubDirectory(ready.tiff, levels[level].directory) != 0 else {
                throw ready.failure("cannot read the directory of level \(level)", file: file.name)
            }
            if levels[level].jpegYCbCr { ready.set(TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB) }
            ready.selectedLevel = level
        }
        return ready
    }

    private func giveBack(_ handle: TIFFFileHandle) {
        lock.lock()
        if idle.count < Self.maxIdleHandles { idle.append(handle) }
        lock.unlock()
    }

    // MARK: - Describing a directory

    /// The level stored in the handle's current directory, or `.unsupported` if it cannot be read.
    private static func describe(_ handle: TIFFFileHandle, name: String, level: Int,
                                 maxBlockBytes: Int) throws(ImageError) -> Level {
        let tiff = handle.tiff
        let width = Int(handle.uint32(TIFFTAG_IMAGEWIDTH) ?? 0), height = Int(handle.uint32(TIFFTAG_IMAGELENGTH) ?? 0)
        guard width > 0, height > 0 else {
            throw ImageError(.zeroSized, file: name, "level \(level) of the TIFF has zero size (\(width)×\(height))")
        }
        let compression = handle.uint16(TIFFTAG_COMPRESSION) ?? UInt16(COMPRESSION_NONE)
        guard TIFFIsCODECConfigured(compression) != 0 else {
            throw ImageError(.unsupported, file: name, "level \(level) uses TIFF compression \(compression), which libtiff cannot decode here")
        }
        let samples = directSamples(handle)
        let jpegYCbCr = samples != nil && handle.uint16(TIFFTAG_PHOTOMETRIC) == UInt16(PHOTOMETRIC_YCBCR)
        if jpegYCbCr { handle.set(TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB) }  // sizes below are then RGB
        if samples == nil {
            var reason = [CChar](repeating: 0, count: 1024)
            guard TIFFRGBAImageOK(tiff, &reason) != 0 else {
                let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw ImageError(.unsupported, file: name, "level \(level): unsupported TIFF variant (libtiff: \(text.singleLine))")
            }
        }
        let tiled = TIFFIsTiled(tiff) != 0
        let blockWidth = tiled ? Int(handle.uint32(TIFFTAG_TILEWIDTH) ?? 0) : width
        let blockHeight = tiled ? Int(handle.uint32(TIFFTAG_TILELENGTH) ?? 0)
            : min(Int(handle.uint32(TIFFTAG_ROWSPERSTRIP) ?? UInt32.max), height)
        guard blockWidth > 0, blockHeight > 0 else {
            throw ImageError(.corrupt, file: name, "corrupt TIFF: level \(level) has tiles of zero size")
        }
        let rowBytes = samples == nil ? 4 * blockWidth : Int(tiled ? TIFFTileRowSize(tiff) : TIFFScanlineSize(tiff))
        let (blockBytes, overflow) = rowBytes.multipliedReportingOverflow(by: blockHeight)
        guard rowBytes > 0, !overflow, blockBytes <= maxBlockBytes else {
            throw ImageError(.unsupported, file: name,
                             "level \(level) is stored in \(tiled ? "tiles" : "strips") of \(blockWidth)×\(blockHeight) px, too large to read by region")
        }
        return Level(directory: TIFFCurrentDirOffset(tiff), width: width, height: height, tiled: tiled,
                     blockWidth: blockWidth, blockHeight: blockHeight, blockBytes: blockBytes, rowBytes: rowBytes,
                     samples: samples, jpegYCbCr: jpegYCbCr)
    }

    /// The layout if the current directory is 8- or 16-bit grey or RGB, or 8-bit JPEG-YCbCr, with
    /// interleaved samples.
    private static func directSamples(_ handle: TIFFFileHandle) -> Samples? {
        guard let bits = handle.uint16(TIFFTAG_BITSPERSAMPLE), bits == 8 || bits == 16,
              let perPixel = handle.uint16(TIFFTAG_SAMPLESPERPIXEL),
              let photometric = handle.uint16(TIFFTAG_PHOTOMETRIC),
              handle.uint16(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT) == UInt16(SAMPLEFORMAT_UINT),
              perPixel == 1 || handle.uint16(TIFFTAG_PLANARCONFIG) == UInt16(PLANARCONFIG_CONTIG)
        else { return nil }
        let compression = Int32(handle.uint16(TIFFTAG_COMPRESSION) ?? 1)
        let channels: UInt16
        switch Int32(photometric) {
        case PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_MINISWHITE: channels = 1
        case PHOTOMETRIC_RGB where compression != COMPRESSION_OJPEG: channels = 3
        case PHOTOMETRIC_YCBCR where compression == COMPRESSION_JPEG && bits == 8: channels = 3
        default: return nil
        }
        guard perPixel >= channels else { return nil }
        var alpha = Samples.Alpha.none
        if perPixel > channels {
            switch handle.extraSamples().first.map(Int32.init) {
            case EXTRASAMPLE_ASSOCALPHA?: alpha = .associated
            case EXTRASAMPLE_UNASSALPHA?: alpha = .unassociated
            default: alpha = .none
            }
        }
        return Samples(sixteenBit: bits == 16, samplesPerPixel: Int(perPixel), grey: channels == 1,
                       minIsWhite: Int32(photometric) == PHOTOMETRIC_MINISWHITE, alpha: alpha)
    }

    /// Whether `level` has level 0's shape: its height is what level 0's height becomes with the width's
    /// ratio, give or take the rounding of both sides (one pixel each, and the width's rounding carried
    /// to the height) and 2 %.
    private static func sameAspect(_ level: Level, as base: Level) -> Bool {
        let expected = Double(base.height) * Double(level.width) / Double(base.width)
        return abs(Double(level.height) - expected) <= 1.5 + Double(base.height) / Double(base.width) + 0.02 * expected
    }

    // MARK: - Reading blocks

    private struct Region {
        var x: Int, y: Int, width: Int, height: Int
    }

    /// Reads every tile the region touches; returns what failed, or `nil`.
    private func readTiles(_ handle: TIFFFileHandle, _ level: Level, _ index: Int, _ region: Region,
                           _ out: UnsafeMutablePointer<UInt8>) -> String? {
        let tiff = handle.tiff
        let tw = level.blockWidth, th = level.blockHeight
        for row in (region.y / th)...((region.y + region.height - 1) / th) {
            for column in (region.x / tw)...((region.x + region.width - 1) / tw) {
                let x0 = column * tw, y0 = row * th
                let decoded = tiles.bytes(.init(level: index, column: column, row: row)) {
                    let bytes = [UInt8](unsafeUninitializedCapacity: level.blockBytes) { buffer, count in
                        count = level.blockBytes
                        let block = UnsafeMutableRawPointer(buffer.baseAddress!)
                        if level.samples != nil {
                            let tile = TIFFComputeTile(tiff, UInt32(x0), UInt32(y0), 0, 0)
                            let rowsHere = min(th, level.height - y0)
                            if TIFFReadEncodedTile(tiff, tile, block, tmsize_t(level.blockBytes)) < rowsHere * level.rowBytes { count = 0 }
                        } else if TIFFReadRGBATile(tiff, UInt32(x0), UInt32(y0), block.assumingMemoryBound(to: UInt32.self)) == 0 {
                            count = 0
                        }
                    }
                    guard bytes.count == level.blockBytes, handle.firstWarning == nil else {
                        return .failure(.init(what: "cannot read tile (\(column), \(row)) of level \(index)"))
                    }
                    return .success(bytes)
                }
                switch decoded {
                case .failure(let failure): return failure.what
                case .success(let bytes):
                    bytes.withUnsafeBytes { copy(level, $0.baseAddress!, blockX: x0, blockY: y0, blockRows: th, region, out) }
                }
            }
        }
        return nil
    }

    /// Reads every strip the region touches; returns what failed, or `nil`.
    private func readStrips(_ handle: TIFFFileHandle, _ level: Level, _ index: Int, _ region: Region,
                            _ block: UnsafeMutableRawPointer, _ out: UnsafeMutablePointer<UInt8>) -> String? {
        let tiff = handle.tiff
        let rowsPerStrip = level.blockHeight
        for strip in (region.y / rowsPerStrip)...((region.y + region.height - 1) / rowsPerStrip) {
            let y0 = strip * rowsPerStrip, rowsHere = min(rowsPerStrip, level.height - y0)
            let what = "cannot read strip \(strip) of level \(index)"
            if level.samples != nil {
                guard TIFFReadEncodedStrip(tiff, UInt32(strip), block, tmsize_t(level.blockBytes)) >= rowsHere * level.rowBytes,
                      handle.firstWarning == nil else { return what }
            } else {
                guard TIFFReadRGBAStrip(tiff, UInt32(y0), block.assumingMemoryBound(to: UInt32.self)) != 0,
                      handle.firstWarning == nil else { return what }
            }
            copy(level, block, blockX: 0, blockY: y0, blockRows: rowsHere, region, out)
        }
        return nil
    }

    /// Copies the part of a decoded block (top-left at level pixel `blockX, blockY`) inside the region
    /// into `out`, converting to RGB. An RGBA raster from libtiff is bottom row first: a tile's over
    /// `blockHeight` rows, a strip's over the `blockRows` it holds.
    private func copy(_ level: Level, _ block: UnsafeRawPointer, blockX: Int, blockY: Int, blockRows: Int,
                      _ region: Region, _ out: UnsafeMutablePointer<UInt8>) {
        let x0 = max(region.x, blockX), x1 = min(region.x + region.width, blockX + level.blockWidth)
        let y0 = max(region.y, blockY), y1 = min(region.y + region.height, blockY + blockRows)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            let destination = out + 3 * ((y - region.y) * region.width + (x0 - region.x))
            if let samples = level.samples {
                samples.convert(block + (y - blockY) * level.rowBytes + (x0 - blockX) * samples.bytesPerPixel, count: x1 - x0, to: destination)
            } else {
                let rasterRows = level.tiled ? level.blockHeight : blockRows
                let source = block.assumingMemoryBound(to: UInt32.self)
                    + (rasterRows - 1 - (y - blockY)) * level.blockWidth + (x0 - blockX)
                Self.convertRGBA(source, count: x1 - x0, to: destination)
            }
        }
    }

    /// Converts `count` pixels of libtiff's packed ABGR (premultiplied) to RGB over white.
    private static func convertRGBA(_ source: UnsafePointer<UInt32>, count: Int, to destination: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count {
            let v = source[i], uncovered = 255 - (v >> 24)
            destination[3 * i] = UInt8(min(255, (v & 0xFF) + uncovered))
            destination[3 * i + 1] = UInt8(min(255, ((v >> 8) & 0xFF) + uncovered))
            destination[3 * i + 2] = UInt8(min(255, ((v >> 16) & 0xFF) + uncovered))
        }
    }
}
