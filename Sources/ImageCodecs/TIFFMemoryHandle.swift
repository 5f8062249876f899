import CTIFF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libtiff handle reading from a buffer in memory (`TIFFClientOpenExt`), with libtiff's error and warning
/// messages captured per handle instead of printed.
///
/// Reads go through a read callback rather than a memory map so that a read past the end of the buffer
/// is seen (`readPastEnd`), which tells a truncated file from a damaged one.
final class TIFFMemoryHandle {
    /// The open handle; valid until `close()`.
    private(set) var tiff: OpaquePointer?
    private let source: UnsafeMutablePointer<Source>
    private let log = MessageLog()

    /// The first error libtiff reported, on one line, or `nil`.
    var firstError: String? { log.errors.first }
    /// Whether libtiff asked for bytes beyond the end of the buffer.
    var readPastEnd: Bool { source.pointee.readPastEnd }

    /// Opens the TIFF in `bytes` (which must outlive the handle) and reads its first directory.
    /// `tiff` is `nil` if that failed; see `firstError` and `readPastEnd`.
    /// `maxSingleAllocation` caps each allocation libtiff makes for its own buffers.
    init(bytes: UnsafeRawBufferPointer, maxSingleAllocation: Int) {
        TIFFLog.silenceGlobalHandlers
        source = .allocate(capacity: 1)
        source.initialize(to: Source(base: bytes.baseAddress, count: bytes.count))
        let options = TIFFOpenOptionsAlloc()
        defer { TIFFOpenOptionsFree(options) }
        TIFFLog.install(log, on: options)
        TIFFOpenOptionsSetMaxSingleMemAlloc(options, tmsize_t(maxSingleAllocation))
        // "r": read; "m": no memory map, so every read goes through `readProc`. libtiff puts the
        // handle's name into many messages; the file's name is already in ours, so it gets a fixed one,
        // which `TIFFLog` removes.
        tiff = TIFFClientOpenExt(TIFFLog.handleName, "rm", source, Self.readProc, Self.writeProc, Self.seekProc,
                                 Self.closeProc, Self.sizeProc, Self.mapProc, Self.unmapProc, options)
    }

    deinit {
        if let tiff { TIFFClose(tiff) }
        source.deinitialize(count: 1)
        source.deallocate()
    }

    /// A 16-bit tag's value (or libtiff's default for it), via `TIFFVGetFieldDefaulted` since the C
    /// variadic `TIFFGetField` cannot be called from Swift.
    func uint16Field(_ tag: Int32) -> UInt16? {
        var value: UInt16 = 0
        let found = withUnsafeMutablePointer(to: &value) { pointer in
            withVaList([pointer]) { TIFFVGetFieldDefaulted(tiff, UInt32(tag), $0) }
        }
        return found != 0 ? value : nil
    }

    /// A 32-bit tag's value (or libtiff's default for it).
    func uint32Field(_ tag: Int32) -> UInt32? {
        var value: UInt32 = 0
        let found = withUnsafeMutablePointer(to: &value) { pointer in
            withVaList([pointer]) { TIFFVGetFieldDefaulted(tiff, UInt32(tag), $0) }
        }
        return found != 0 ? value : nil
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

    /// Sets an integer-valued tag or pseudo-tag (such as `TIFFTAG_JPEGCOLORMODE`) via `TIFFVSetField`.
    func setField(_ tag: Int32, _ value: Int32) {
        _ = withVaList([value]) { TIFFVSetField(tiff, UInt32(tag), $0) }
    }

    // MARK: - libtiff callbacks

    private struct Source {
        let base: UnsafeRawPointer?
        let count: Int
        var position = 0
        var readPastEnd = false
    }

    private static let readProc: TIFFReadWriteProc = { handle, buffer, size in
        let source = handle!.assumingMemoryBound(to: Source.self)
        let available = max(0, source.pointee.count - source.pointee.position)
        let n = min(Int(size), available)
        if n < Int(size) { source.pointee.readPastEnd = true }
        if n > 0, let buffer, let base = source.pointee.base {
            buffer.copyMemory(from: base + source.pointee.position, byteCount: n)
        }
        source.pointee.position += n
        return tmsize_t(n)
    }

    private static let writeProc: TIFFReadWriteProc = { _, _, _ in -1 }

    private static let seekProc: TIFFSeekProc = { handle, offset, whence in
        let source = handle!.assumingMemoryBound(to: Source.self)
        return tiffClientSeek(&source.pointee.position, size: source.pointee.count, offset: offset, whence: whence)
    }

    private static let closeProc: TIFFCloseProc = { _ in 0 }

    private static let sizeProc: TIFFSizeProc = { handle in
        UInt64(handle!.assumingMemoryBound(to: Source.self).pointee.count)
    }

    private static let mapProc: TIFFMapFileProc = { _, _, _ in 0 }
    private static let unmapProc: TIFFUnmapFileProc = { _, _, _ in }
}
