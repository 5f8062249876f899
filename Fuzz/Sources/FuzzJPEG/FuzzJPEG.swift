import FuzzSupport
import ImageCodecs

/// The JPEG decoder and EXIF orientation: every input is given the JPEG start bytes `FF D8 FF`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzSupport.forcing(.jpeg, magic: [0xFF, 0xD8, 0xFF],
                                    onto: Array(UnsafeBufferPointer(start: data, count: size)))
    FuzzSupport.checkDecode(bytes, format: .jpeg)
    return 0
}
