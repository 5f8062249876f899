import FuzzSupport
import ImageCodecs

/// Any bytes through format detection and `ImageCodecs.decode`: the path every input file takes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzSupport.checkDecode(bytes, format: ImageCodecs.detectFormat(bytes))
    return 0
}
