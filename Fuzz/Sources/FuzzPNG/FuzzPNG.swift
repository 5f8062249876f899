import FuzzSupport
import ImageCodecs

/// The PNG decoder: every input is given the PNG signature (see `FuzzSupport.forcing`) and right chunk
/// CRCs (`FuzzSupport.fixingChunkCRCs`); the checksum check itself is left to the `decode` target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let signed = FuzzSupport.forcing(.png, magic: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
                                     onto: Array(UnsafeBufferPointer(start: data, count: size)))
    FuzzSupport.checkDecode(FuzzSupport.fixingChunkCRCs(signed), format: .png)
    return 0
}
