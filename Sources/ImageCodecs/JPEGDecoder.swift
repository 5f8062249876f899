import CTurboJPEG

/// JPEG reading through the TurboJPEG API of libjpeg-turbo: baseline, extended, progressive and
/// arithmetic-coded; YCbCr, greyscale and RGB. CMYK/YCCK JPEGs are `.unsupported`.
///
/// The EXIF orientation is not applied here (see `EXIFOrientation`). A JPEG that ends early is an error
/// (`.truncated`), not an image with a grey lower part; other recoverable damage reported by libjpeg
/// ("Corrupt JPEG data: …") is `.corrupt`, except stray bytes before a marker, which cameras produce and
/// which do not affect the pixels.
enum JPEGDecoder {
    /// Decodes at 1/`scale` of the full size (`scale` ∈ {1, 2, 4, 8}) using libjpeg-turbo's DCT scaling,
    /// which skips most of the inverse-DCT work; the result is ⌈width/scale⌉ × ⌈height/scale⌉.
    /// `maxPixels` applies to the full-size dimensions.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String, maxPixels: Int,
                       scale: Int = 1) throws(ImageError) -> RGBImage {
        precondition([1, 2, 4, 8].contains(scale), "JPEG DCT scaling supports 1, 2, 4 and 8")
        guard let handle = tjInitDecompress() else {
            throw ImageError(.unsupported, file: name, "cannot start the JPEG decoder (out of memory?)")
        }
        defer { tjDestroy(handle) }
        let source = bytes.bindMemory(to: UInt8.self)
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        try check(tjDecompressHeader3(handle, source.baseAddress, UInt(source.count),
                                      &width, &height, &subsampling, &colorspace),
                  handle, name: name, size: bytes.count)
        if width == 0 || height == 0 {
            // libjpeg met the end of the data (or an EOI marker) before any frame header.
            let endsWithEOI = source.count >= 4 && source[source.count - 2] == 0xFF && source[source.count - 1] == 0xD9
            throw endsWithEOI
                ? ImageError(.corrupt, file: name, "corrupt JPEG data (no image frame, only tables)")
                : ImageError(.truncated, file: name,
                             "truncated JPEG data (ends after \(bytes.count) bytes, before the image header)")
        }
        try checkDimensions(width: Int(width), height: Int(height), maxPixels: maxPixels, file: name, format: "JPEG")
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw ImageError(.unsupported, file: name, "CMYK JPEG images are not supported")
        }
        let outWidth = (Int(width) + scale - 1) / scale, outHeight = (Int(height) + scale - 1) / scale
        let count = outWidth * outHeight * 3
        var status: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = tjDecompress2(handle, source.baseAddress, UInt(source.count), buffer.baseAddress,
                                   Int32(outWidth), 0, Int32(outHeight), Int32(TJPF_RGB.rawValue),
                                   TJFLAG_LIMITSCANS)
            initialized = count
        }
        try check(status, handle, name: name, size: bytes.count)
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// Throws unless a TurboJPEG call succeeded or only warned about extraneous bytes before a marker,
    /// which camera files often have and which leaves the pixels intact.
    private static func check(_ status: Int32, _ handle: tjhandle, name: String, size: Int) throws(ImageError) {
        guard status != 0 else { return }
        let harmless = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            && String(cString: tjGetErrorStr2(handle)).contains("extraneous bytes before marker")
        if !harmless { throw error(handle, name: name, size: size) }
    }

    /// Classifies TurboJPEG's last error message.
    private static func error(_ handle: tjhandle, name: String, size: Int) -> ImageError {
        let message = String(cString: tjGetErrorStr2(handle)).oneLine
        if message.contains("Premature end") {
            return ImageError(.truncated, file: name,
                              "truncated JPEG data (premature end of file after \(size) bytes)")
        }
        if message.contains("Maximum supported image dimension") {
            return ImageError(.tooLarge, file: name, "JPEG image too large (libjpeg: \(message))")
        }
        if message.contains("Empty JPEG image") {
            return ImageError(.zeroSized, file: name, "JPEG image has zero size (libjpeg: \(message))")
        }
        // Features libjpeg-turbo lacks (12-bit data, lossless or hierarchical SOF types, CCIR601 sampling…).
        // "Unsupported marker type" is not among them: it means damaged data.
        let unsupported = ["Unsupported JPEG data precision", "Unsupported JPEG process", "Unsupported color conversion",
                           "not implemented", "not supported"]
        if unsupported.contains(where: message.contains) {
            return ImageError(.unsupported, file: name, "unsupported JPEG variant (libjpeg: \(message))")
        }
        return ImageError(.corrupt, file: name, "corrupt JPEG data (libjpeg: \(message))")
    }
}
