import CTurboJPEG

/// JPEG writing through the TurboJPEG API of libjpeg-turbo: baseline, YCbCr with 4:2:0 chroma
/// subsampling (as cameras and slide scanners store images), with its own tables. Thread-safe: a
/// TurboJPEG handle per call.
public enum JPEGEncoder {
    /// `width × height` interleaved RGB `pixels` compressed at `quality` (clamped to 1–100).
    /// Throws `.writeFailed` (with `name` as the file) when TurboJPEG cannot start or fails.
    /// Cost: about 10 ns per pixel on one core.
    public static func encode(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, quality: Int,
                              name: String = "image") throws(ImageError) -> [UInt8] {
        precondition(width >= 1 && height >= 1, "a JPEG has at least one pixel")
        guard let handle = tjInitCompress() else {
            throw ImageError(.writeFailed, file: name, "cannot start the JPEG encoder (out of memory?)")
        }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = tjCompress2(handle, pixels, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue),
                                 &output, &size, Int32(TJSAMP_420.rawValue), Int32(max(1, min(100, quality))), 0)
        defer { tjFree(output) }
        guard status == 0, let output else {
            throw ImageError(.writeFailed, file: name, "cannot compress (TurboJPEG: \(String(cString: tjGetErrorStr2(handle))))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// What `width × height` RGB `pixels` become once stored as a JPEG at `quality` and read back: the
    /// loss of a JPEG generation (blockiness, ringing, chroma at half resolution), written into `out`
    /// (same size; it may be `pixels`). Returns false, leaving `out` untouched, if TurboJPEG fails.
    /// Cost: one encode and one decode, about 20 ns per pixel.
    @discardableResult
    public static func roundTrip(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, quality: Int,
                                 into out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let bytes = try? encode(pixels, width: width, height: height, quality: quality),
              let handle = tjInitDecompress() else { return false }
        defer { tjDestroy(handle) }
        return bytes.withUnsafeBufferPointer { source in
            tjDecompress2(handle, source.baseAddress, UInt(source.count), out, Int32(width), 0, Int32(height),
                          Int32(TJPF_RGB.rawValue), 0) == 0
        }
    }
}
