/// Rejects zero or oversized dimensions before a decoder allocates the pixel buffer.
///
/// `format` names the format in messages ("PNG", "JPEG", "TIFF"). Throws `.zeroSized` when either side
/// is 0 and `.tooLarge` when `width · height` exceeds `maxPixels` or the RGB buffer size would not fit
/// in an `Int`.
func checkDimensions(width: Int, height: Int, maxPixels: Int, file: String, format: String) throws(ImageError) {
    if width <= 0 || height <= 0 {
        throw ImageError(.zeroSized, file: file, "\(format) image has zero size (\(width)×\(height))")
    }
    let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
    if overflow || pixels > maxPixels || pixels > Int.max / 4 {
        throw ImageError(.tooLarge, file: file,
                         "dimensions \(width)×\(height) exceed the \(describeLimit(maxPixels)) limit")
    }
}

/// "100-megapixel" for whole megapixels, otherwise "12345-pixel".
private func describeLimit(_ maxPixels: Int) -> String {
    maxPixels >= 1_000_000 && maxPixels % 1_000_000 == 0
        ? "\(maxPixels / 1_000_000)-megapixel" : "\(maxPixels)-pixel"
}
