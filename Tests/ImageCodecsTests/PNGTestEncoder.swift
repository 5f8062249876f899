import CPNG

/// Writes PNG test files of any colour type and bit depth with libpng's classic API (the simplified
/// writer only does 8-bit or linear 16-bit RGB(A)/grey). Inputs are valid, so libpng never raises an error.
enum PNGTestEncoder {
    /// `samples` holds `channels(colorType)` values per pixel, row by row, each < 2^bitDepth (palette: indices).
    static func encode(width: Int, height: Int, colorType: Int32, bitDepth: Int32, samples: [UInt16],
                       palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8] = [],
                       interlaced: Bool = false) -> [UInt8] {
        let channels = samples.count / (width * height)
        precondition(channels * width * height == samples.count && bitDepth >= 8)
        let output = Output()
        var png: png_structp? = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil)
        var info: png_infop? = png_create_info_struct(png)
        png_set_write_fn(png, Unmanaged.passUnretained(output).toOpaque(), { png, data, length in
            let output = Unmanaged<Output>.fromOpaque(png_get_io_ptr(png)!).takeUnretainedValue()
            output.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }, nil)
        png_set_IHDR(png, info, UInt32(width), UInt32(height), bitDepth, colorType,
                     interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        if !palette.isEmpty {
            var colors = palette.map { png_color(red: $0.0, green: $0.1, blue: $0.2) }
            png_set_PLTE(png, info, &colors, Int32(colors.count))
        }
        if !transparency.isEmpty {
            var alphas = transparency
            png_set_tRNS(png, info, &alphas, Int32(alphas.count), nil)
        }
        png_write_info(png, info)
        if interlaced { _ = png_set_interlace_handling(png) }
        // PNG stores 16-bit samples big-endian.
        var data = [UInt8]()
        for sample in samples {
            if bitDepth == 16 { data.append(UInt8(sample >> 8)) }
            data.append(UInt8(truncatingIfNeeded: sample))
        }
        let rowBytes = data.count / height
        data.withUnsafeMutableBufferPointer { buffer in
            var rows: [UnsafeMutablePointer<UInt8>?] = (0..<height).map { buffer.baseAddress! + $0 * rowBytes }
            png_write_image(png, &rows)
        }
        png_write_end(png, nil)
        png_destroy_write_struct(&png, &info)
        return output.bytes
    }

    private final class Output { var bytes: [UInt8] = [] }
}
