/// An 8-bit RGB raster, row-major, 3 interleaved bytes per pixel (R, G, B), no padding.
///
/// Every decoder in this module produces this one type: 16-bit samples are scaled to 8 bits, grey is
/// replicated into the three channels, alpha and palettes are resolved. Memory: `3 · width · height` bytes.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `3 · width · height` bytes; pixel (x, y) starts at `3 · (y · width + x)`.
    public var pixels: [UInt8]

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0)
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        if fill != (0, 0, 0) {
            for i in stride(from: 0, to: p.count, by: 3) { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2 }
        }
        self.pixels = p
    }

    /// Wraps existing interleaved RGB bytes; `pixels.count` must be `3 · width · height`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "pixel buffer does not match \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at (x, y). No bounds check beyond the array's own.
    @inlinable public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        get { let i = 3 * (y * width + x); return (pixels[i], pixels[i + 1], pixels[i + 2]) }
        set { let i = 3 * (y * width + x); pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b }
    }

    /// The `width × height` part of the image whose top-left corner is (x, y); the rectangle must lie
    /// inside the image. Cost: one copy of the part.
    public func region(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height, "region outside the image")
        var out = [UInt8](repeating: 0, count: 3 * w * h)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    let from = 3 * ((y + row) * width + x)
                    for i in 0..<(3 * w) { dst[3 * row * w + i] = src[from + i] }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
