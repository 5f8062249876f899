import ImageCodecs

/// Per-pixel stain absorbance relative to the slide's own background, smoothed by a 3×3 mean.
///
/// For each channel `c`, `A_c = 1 − I_c / B_c(x, y)`: 0 on empty glass, towards 1 where the stain
/// absorbs all light; the background `B` is estimated locally, so uneven illumination and the colour
/// cast of each camera and stain cancel out. Red cells absorb mostly green (haemoglobin, eosin);
/// leukocyte nuclei and parasite chromatin (azure/methylene blue) absorb red as well.
public struct Absorbance: Sendable {
    /// Green-channel absorbance: the red-cell signal.
    public var green: Plane
    /// Red-channel absorbance: the nucleus/chromatin signal.
    public var red: Plane
    /// Blue-channel absorbance: low relative to green in the blue-purple nuclei of leukocytes.
    public var blue: Plane
    /// The colour of the empty glass (0–255 per channel): for each channel, the median over the blocks
    /// where background was measured. A smear's glass is bright and nearly neutral.
    public var glass: (red: Float, green: Float, blue: Float)
    /// Side in pixels of the square blocks the background was averaged over (`blockSide`).
    public let block: Int

    /// The side of the background blocks for an image `width × height` whose cells are `cellDiameter`
    /// pixels across (nil: not known yet): 1/8 of the shorter side, but at most two cell diameters, and
    /// at least 8 px. The bound on the diameter makes the background of a region independent of how
    /// much image surrounds it: a slide tile (18 diameters across) and the same place in one large
    /// image get blocks of the same size, so a slide counted in tiles finds the cells the whole image
    /// would. A field of the usual size (up to 16 cells across its shorter side) is not affected.
    public static func blockSide(width: Int, height: Int, cellDiameter: Double?) -> Int {
        var side = min(width, height) / 8
        if let cellDiameter { side = min(side, Int((2 * cellDiameter).rounded())) }
        return max(8, side)
    }

    /// Computes absorbance planes for `image`, whose cells are `cellDiameter` pixels across (nil: not
    /// known yet; see `blockSide`).
    ///
    /// The background is the mean colour of pixels brighter (in green) than the image's Otsu threshold,
    /// averaged over blocks (`blockSide`), blocks without enough background filled from their
    /// neighbours, then interpolated bilinearly. Cost: three passes over the image.
    public init(_ image: RGBImage, cellDiameter: Double? = nil) {
        let w = image.width, h = image.height
        let n = w * h
        // 1. Split glass from stain with Otsu on the green channel.
        var histogram = [Double](repeating: 0, count: 256)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n { histogram[Int(p[3 * i + 1])] += 1 }
        }
        let threshold = otsuThreshold(histogram: histogram) ?? 127

        // 2. Block means of background pixels.
        let block = Self.blockSide(width: w, height: h, cellDiameter: cellDiameter)
        self.block = block
        let bw = (w + block - 1) / block, bh = (h + block - 1) / block
        var sums = [Double](repeating: 0, count: bw * bh * 3)
        var counts = [Int](repeating: 0, count: bw * bh)
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<h {
                let by = y / block
                for x in 0..<w {
                    let i = 3 * (y * w + x)
                    guard Int(p[i + 1]) > threshold else { continue }
                    let b = by * bw + x / block
                    counts[b] += 1
                    sums[3 * b] += Double(p[i]); sums[3 * b + 1] += Double(p[i + 1]); sums[3 * b + 2] += Double(p[i + 2])
                }
            }
        }
        var grid = [Float](repeating: 0, count: bw * bh * 3)
        var known = [Bool](repeating: false, count: bw * bh)
        let minCount = max(1, block * block / 20)
        for b in 0..<(bw * bh) where counts[b] >= minCount {
            known[b] = true
            for c in 0..<3 { grid[3 * b + c] = Float(sums[3 * b + c] / Double(counts[b])) }
        }
        if !known.contains(true) {
            // No clear glass anywhere: use the brightest green level seen as a flat background.
            let brightest = Float(histogram.lastIndex(where: { $0 > 0 }) ?? 255)
            for b in 0..<(bw * bh) { known[b] = true; grid[3 * b] = brightest; grid[3 * b + 1] = brightest; grid[3 * b + 2] = brightest }
        }
        let measured = (0..<(bw * bh)).filter { known[$0] }
        // Fill unknown blocks from known neighbours, ring by ring.
        while known.contains(false) {
            var next = known
            for by in 0..<bh {
                for bx in 0..<bw where !known[by * bw + bx] {
                    var acc: (Float, Float, Float) = (0, 0, 0), k: Float = 0
                    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                        let nx = bx + dx, ny = by + dy
                        guard nx >= 0, ny >= 0, nx < bw, ny < bh, known[ny * bw + nx] else { continue }
                        let j = 3 * (ny * bw + nx)
                        acc.0 += grid[j]; acc.1 += grid[j + 1]; acc.2 += grid[j + 2]; k += 1
                    }
                    if k > 0 {
                        let j = 3 * (by * bw + bx)
                        grid[j] = acc.0 / k; grid[j + 1] = acc.1 / k; grid[j + 2] = acc.2 / k
                        next[by * bw + bx] = true
                    }
                }
            }
            known = next
        }

        // 3. Absorbance with the bilinearly interpolated background.
        var green = [Float](repeating: 0, count: n)
        var red = [Float](repeating: 0, count: n)
        var blue = [Float](repeating: 0, count: n)
        image.pixels.withUnsafeBufferPointer { p in
        green.withUnsafeMutableBufferPointer { ag in
        red.withUnsafeMutableBufferPointer { ar in
        blue.withUnsafeMutableBufferPointer { ab in
            // Per row: the grid interpolated vertically, then each pixel's background horizontally.
            var column = [Float](repeating: 0, count: bw * 3)
            var x0s = [Int](repeating: 0, count: w), fxs = [Float](repeating: 0, count: w)
            for x in 0..<w {
                let gx = max(0, min(Float(bw - 1), (Float(x) + 0.5) / Float(block) - 0.5))
                x0s[x] = Int(gx); fxs[x] = gx - Float(Int(gx))
            }
            for y in 0..<h {
                let gy = max(0, min(Float(bh - 1), (Float(y) + 0.5) / Float(block) - 0.5))
                let y0 = Int(gy), y1 = min(bh - 1, y0 + 1), fy = gy - Float(y0)
                for j in 0..<(bw * 3) { column[j] = grid[y0 * bw * 3 + j] * (1 - fy) + grid[y1 * bw * 3 + j] * fy }
                for x in 0..<w {
                    let x0 = x0s[x], x1 = min(bw - 1, x0 + 1), fx = fxs[x]
                    let i = y * w + x
                    let bgR = max(1, column[3 * x0] * (1 - fx) + column[3 * x1] * fx)
                    let bgG = max(1, column[3 * x0 + 1] * (1 - fx) + column[3 * x1 + 1] * fx)
                    let bgB = max(1, column[3 * x0 + 2] * (1 - fx) + column[3 * x1 + 2] * fx)
                    ar[i] = 1 - Float(p[3 * i]) / bgR
                    ag[i] = 1 - Float(p[3 * i + 1]) / bgG
                    ab[i] = 1 - Float(p[3 * i + 2]) / bgB
                }
            }
        }}}}
        // A 3×3 mean takes the edge off sensor and JPEG noise before thresholds and gradients.
        self.green = boxBlur(Plane(width: w, height: h, values: green), radius: 1)
        self.red = boxBlur(Plane(width: w, height: h, values: red), radius: 1)
        self.blue = boxBlur(Plane(width: w, height: h, values: blue), radius: 1)
        func median(_ channel: Int) -> Float {
            let values = measured.map { grid[3 * $0 + channel] }.sorted()
            return values[values.count / 2]
        }
        self.glass = (median(0), median(1), median(2))
    }
}
