import CTIFF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libtiff's seek callback for a client handle (`TIFFClientOpenExt`) over `size` bytes read at
/// `position`: moves `position` by `offset` from the start, the current position or the end
/// (`whence`: SEEK_SET, SEEK_CUR, SEEK_END) and returns it, or `UInt64.max` (libtiff's `(toff_t)-1`)
/// when that would overflow or fall before the start, leaving `position` as it was. A position past
/// the end is allowed, as for a file; the read callback then reads nothing.
public func tiffClientSeek(_ position: inout Int, size: Int, offset: UInt64, whence: Int32) -> UInt64 {
    let origin: Int
    switch whence {
    case SEEK_CUR: origin = position
    case SEEK_END: origin = size
    default: origin = 0
    }
    let (target, overflow) = origin.addingReportingOverflow(Int(truncatingIfNeeded: offset))
    guard !overflow, target >= 0 else { return UInt64.max }
    position = target
    return UInt64(target)
}
