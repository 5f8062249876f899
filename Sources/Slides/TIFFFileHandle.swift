import CTIFF
import ImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libtiff read handle on an open file descriptor (`TIFFClientOpenExt` with `pread`, so that several
/// handles share one descriptor, each with its own position), with libtiff's errors and warnings kept
/// per handle instead of printed.
///
/// Opened with on-demand loading of tile and strip offsets (libtiff's `O` mode), so selecting a
/// directory reads its tags only, never its whole offset arrays: cheap for a level of 100,000 tiles.
/// Not thread-safe: one thread at a time (`TIFFSlideReader` hands each handle to one caller at a time).
final class TIFFFileHandle: @unchecked Sendable {
    /// The open handle, or `nil` if libtiff could not read the header and first directory.
    private(set) var tiff: OpaquePointer?
    /// The slide level whose directory is selected (`TIFFSlideReader` keeps this up to date), or `nil`.
    var selectedLevel: Int?
    private let source: UnsafeMutablePointer<Source>
    private let log = MessageLog()

    /// The first error libtiff reported since the last `clearMessages()`, on one line.
    var firstError: String? { log.errors.first }
    /// The first warning libtiff reported since the last `clearMessages()`, on one line.
    var firstWarning: String? { log.warnings.first }
    /// Whether libtiff asked for bytes beyond the end of the file (a truncated file).
    var readPastEnd: Bool { source.pointee.readPastEnd }

    /// Opens a libtiff handle on `fd` (a regular file of `size` bytes that outlives the handle) and reads
    /// its first directory; `tiff` is `nil` if that failed (see `failure`). `maxSingleAllocation` caps
    /// each buffer libtiff allocates for itself.
    init(fd: Int32, size: Int, maxSingleAllocation: Int) {
        TIFFLog.silenceGlobalHandlers
        source = .allocate(capacity: 1)
        source.initialize(to: Source(fd: fd, size: size))
        let options = TIFFOpenOptionsAlloc()
        defer { TIFFOpenOptionsFree(options) }
        TIFFLog.install(log, on: options)
        TIFFOpenOptionsSetMaxSingleMemAlloc(options, tmsize_t(maxSingleAllocation))
        // "r": read; "m": no memory map, every read goes through `readProc`; "O": tile and strip offsets
        // are read when a tile or strip is, not with the directory.
        tiff = TIFFClientOpenExt(TIFFLog.handleName, "rmO", source, Self.readProc, Self.writeProc, Self.seekProc,
                                 Self.closeProc, Self.sizeProc, Self.mapProc, Self.unmapProc, options)
    }

    deinit {
        if let tiff { TIFFClose(tiff) }
        source.deinitialize(count: 1)
        source.deallocate()
    }

    /// Forgets the messages and the past-the-end flag, before an operation whose failure is to be explained.
    func clearMessages() {
        log.errors.removeAll()
        log.warnings.removeAll()
        source.pointee.readPastEnd = false
    }

    /// The error for a failed libtiff call about `what` ("cannot read tile 3 of level 0"): says
    /// "truncated" if libtiff read past the end of the file, and quotes libtiff's first error or warning.
    func failure(_ what: String, file: String) -> ImageError {
        let quote = (firstError ?? firstWarning).map { " (libtiff: \($0.singleLine))" } ?? ""
        if readPastEnd { return ImageError(.truncated, file: file, "truncated TIFF: \(what)\(quote)") }
        return ImageError(.corrupt, file: file, "corrupt TIFF: \(what)\(quote)")
    }

    // MARK: - Tags (the C variadic TIFFGetField cannot be called from Swift: TIFFVGetField instead)

    /// A 16-bit tag's value, or libtiff's default for it (`defaulted`), or `nil` if absent.
    func uint16(_ tag: Int32, defaulted: Bool = true) -> UInt16? {
        var value: UInt16 = 0
        return get(tag, defaulted: defaulted, &value) ? value : nil
    }

    /// A 32-bit tag's value, or libtiff's default for it (`defaulted`), or `nil` if absent.
    func uint32(_ tag: Int32, defaulted: Bool = true) -> UInt32? {
        var value: UInt32 = 0
        return get(tag, defaulted: defaulted, &value) ? value : nil
    }

    /// A RATIONAL tag that libtiff keeps as a `float` (XResolution, YResolution), if present.
    func float(_ tag: Int32) -> Float? {
        var value: Float = 0
        return get(tag, defaulted: false, &value) ? value : nil
    }

    /// An ASCII tag (ImageDescription), decoded as UTF-8 with invalid bytes replaced, if present.
    func string(_ tag: Int32) -> String? {
        var value: UnsafeMutablePointer<CChar>? = nil
        guard get(tag, defaulted: false, &value), let value else { return nil }
        return String(cString: value)
    }

    /// The offsets of the current directory's SubIFDs (tag 330), empty if it has none.
    func subIFDOffsets() -> [UInt64] {
        var count: UInt16 = 0
        var offsets: UnsafeMutablePointer<UInt64>? = nil
        let found = withUnsafeMutablePointer(to: &count) { countPointer in
            withUnsafeMutablePointer(to: &offsets) { offsetsPointer in
                withVaList([countPointer, offsetsPointer]) { TIFFVGetField(tiff, UInt32(TIFFTAG_SUBIFD), $0) }
            }
        }
        guard found != 0, let offsets else { return [] }
        return Array(UnsafeBufferPointer(start: offsets, count: Int(count)))
    }

    /// The ExtraSamples tag: what each sample beyond the colour channels holds (`EXTRASAMPLE_*`).
    func extraSamples() -> [UInt16] {
        var count: UInt16 = 0
        var values: UnsafeMutablePointer<UInt16>? = nil
        let found = withUnsafeMutablePointer(to: &count) { countPointer in
            withUnsafeMutablePointer(to: &values) { valuesPointer in
                withVaList([countPointer, valuesPointer]) {
                    TIFFVGetFieldDefaulted(tiff, UInt32(TIFFTAG_EXTRASAMPLES), $0)
                }
            }
        }
        guard found != 0, let values else { return [] }
        return Array(UnsafeBufferPointer(start: values, count: Int(count)))
    }

    /// Sets an integer-valued tag or pseudo-tag (such as `TIFFTAG_JPEGCOLORMODE`).
    func set(_ tag: Int32, _ value: Int32) {
        _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) }
    }

    private func get<T>(_ tag: Int32, defaulted: Bool, _ value: inout T) -> Bool {
        withUnsafeMutablePointer(to: &value) { pointer in
            withVaList([pointer]) {
                defaulted ? TIFFVGetFieldDefaulted(tiff, UInt32(tag), $0) != 0 : TIFFVGetField(tiff, UInt32(tag), $0) != 0
            }
        }
    }

    // MARK: - libtiff I/O callbacks: pread at the handle's own position

    private struct Source {
        let fd: Int32
        let size: Int
        var position = 0
        var readPastEnd = false
    }

    private static let readProc: TIFFReadWriteProc = { handle, buffer, size in
        let source = handle!.assumingMemoryBound(to: Source.self)
        var done = 0
        while done < Int(size), let buffer {
            let n = pread(source.pointee.fd, buffer + done, Int(size) - done, off_t(source.pointee.position + done))
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            done += n
        }
        if done < Int(size) { source.pointee.readPastEnd = true }
        source.pointee.position += done
        return tmsize_t(done)
    }

    private static let writeProc: TIFFReadWriteProc = { _, _, _ in -1 }

    private static let seekProc: TIFFSeekProc = { handle, offset, whence in
        let source = handle!.assumingMemoryBound(to: Source.self)
        return tiffClientSeek(&source.pointee.position, size: source.pointee.size, offset: offset, whence: whence)
    }

    private static let closeProc: TIFFCloseProc = { _ in 0 }
    private static let sizeProc: TIFFSizeProc = { handle in
        UInt64(handle!.assumingMemoryBound(to: Source.self).pointee.size)
    }
    private static let mapProc: TIFFMapFileProc = { _, _, _ in 0 }
    private static let unmapProc: TIFFUnmapFileProc = { _, _, _ in }
}
