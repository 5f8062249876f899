import FuzzSupport
import ImageCodecs

/// The TIFF decoder (libtiff through an in-memory handle): inputs that do not start with one of the four
/// TIFF headers are given the little-endian one, `II*\0`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTIFF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzSupport.forcing(.tiff, magic: [0x49, 0x49, 0x2A, 0x00],
                                    onto: Array(UnsafeBufferPointer(start: data, count: size)))
    FuzzSupport.checkDecode(bytes, format: .tiff)
    return 0
}
