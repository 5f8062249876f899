/// Sobel gradient of a plane: `gx = ∂f/∂x`, `gy = ∂f/∂y` (3×3 Sobel, edge pixels replicated) and the
/// magnitude `√(gx² + gy²)`. The gradient points towards increasing values — for absorbance, from
/// glass into a cell. Cost: one pass, 3 planes.
public struct Gradient: Sendable {
    public var gx: Plane
    public var gy: Plane
    public var magnitude: Plane

    public init(_ f: Plane) {
        let w = f.width, h = f.height
        var gx = [Float](repeating: 0, count: w * h), gy = gx, mag = gx
        f.values.withUnsafeBufferPointer { v in
        gx.withUnsafeMutableBufferPointer { gx in
        gy.withUnsafeMutableBufferPointer { gy in
        mag.withUnsafeMutableBufferPointer { mag in
            for y in 0..<h {
                let ym = max(0, y - 1) * w, y0 = y * w, yp = min(h - 1, y + 1) * w
                for x in 0..<w {
                    let xm = max(0, x - 1), xp = min(w - 1, x + 1)
                    let a = v[ym + xm], b = v[ym + x], c = v[ym + xp]
                    let d = v[y0 + xm], e = v[y0 + xp]
                    let g = v[yp + xm], hh = v[yp + x], i = v[yp + xp]
                    let dx = (c + 2 * e + i) - (a + 2 * d + g)
                    let dy = (g + 2 * hh + i) - (a + 2 * b + c)
                    gx[y0 + x] = dx
                    gy[y0 + x] = dy
                    mag[y0 + x] = (dx * dx + dy * dy).squareRoot()
                }
            }
        }}}}
        self.gx = Plane(width: w, height: h, values: gx)
        self.gy = Plane(width: w, height: h, values: gy)
        self.magnitude = Plane(width: w, height: h, values: mag)
    }

    /// The magnitude below which a pixel is not an edge: a quarter of the 99th percentile of the
    /// magnitude (robust to a few very strong edges such as scale bars). Cost: one pass, 1,024 bins.
    public func edgeThreshold() -> Float {
        let values = magnitude.values
        guard let top = values.max(), top > 0 else { return .infinity }
        var histogram = [Int](repeating: 0, count: 1024)
        let scale = Float(1023) / top
        for v in values { histogram[Int(v * scale)] += 1 }
        var remaining = values.count / 100
        var bin = 1023
        while bin > 0 && remaining > histogram[bin] { remaining -= histogram[bin]; bin -= 1 }
        return 0.25 * Float(bin) / scale
    }
}
