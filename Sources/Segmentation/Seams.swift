import ImageCodecs

/// Straight lines along which an image was stitched from several fields (a mosaic of camera frames),
/// found as columns (or rows) across which the green channel jumps far more than between any other
/// neighbours.
///
/// Along a seam the pixels on either side come from different fields, so the typical (median)
/// absolute difference between the two columns is that of unrelated pixels: 15–60 grey levels on
/// mosaics of IML-Malaria, Chula and BCCD fields, while within all 1,073 of those fields no column
/// or row has a median difference above 5 (the median over columns is about 1). A column or row is
/// a seam when its median difference is at least `minLevel` grey levels and `minRatio` times the
/// median over all columns (rows). The median ignores short strong edges such as a scale bar.
/// Cells cut by a seam are border cells, as if each field had been analysed on its own.
public struct Seams: Sendable, Equatable {
    /// x of the first column right of each vertical seam (the seam lies between x − 1 and x).
    public var columns: [Int]
    /// y of the first row below each horizontal seam.
    public var rows: [Int]

    public static let minRatio: Float = 8
    public static let minLevel: Float = 10

    public init(columns: [Int], rows: [Int]) {
        self.columns = columns
        self.rows = rows
    }

    /// Finds the seams of `image`. The median difference across a column is taken over every
    /// `sampling`-th row (and across a row over every `sampling`-th column), `sampling` being 4 where
    /// that leaves at least 64 samples: a few hundred samples give the median of a field. Cost: a
    /// quarter of a pass over the green channel and a 256-bin histogram of differences per column and
    /// per row (`1 KB · (width + height)`).
    public init(in image: RGBImage) {
        let w = image.width, h = image.height
        guard w >= 8, h >= 8 else { self.init(columns: [], rows: []); return }
        let rowStep = h >= 256 ? 4 : 1, columnStep = w >= 256 ? 4 : 1
        // Histograms of |difference| between column x − 1 and x (index x − 1) and between row y − 1 and y.
        var columnHistograms = [UInt32](repeating: 0, count: (w - 1) * 256)
        var rowHistograms = [UInt32](repeating: 0, count: (h - 1) * 256)
        image.pixels.withUnsafeBufferPointer { p in
            columnHistograms.withUnsafeMutableBufferPointer { ch in
                for y in stride(from: 0, to: h, by: rowStep) {
                    let row = 3 * y * w + 1
                    for x in 1..<w {
                        ch[(x - 1) * 256 + Int(abs(Int16(p[row + 3 * x]) - Int16(p[row + 3 * x - 3])))] += 1
                    }
                }
            }
            rowHistograms.withUnsafeMutableBufferPointer { rh in
                for y in 1..<h {
                    let row = 3 * y * w + 1, above = row - 3 * w, base = (y - 1) * 256
                    for x in stride(from: 0, to: w, by: columnStep) {
                        rh[base + Int(abs(Int16(p[row + 3 * x]) - Int16(p[above + 3 * x])))] += 1
                    }
                }
            }
        }
        self.init(columns: Self.outliers(Self.medians(columnHistograms, samples: (h + rowStep - 1) / rowStep)),
                  rows: Self.outliers(Self.medians(rowHistograms, samples: (w + columnStep - 1) / columnStep)))
    }

    /// The median of each 256-bin histogram of `samples` values.
    static func medians(_ histograms: [UInt32], samples: Int) -> [Float] {
        (0..<(histograms.count / 256)).map { i in
            var seen = 0
            for level in 0..<256 {
                seen += Int(histograms[i * 256 + level])
                if 2 * seen >= samples { return Float(level) }
            }
            return 255
        }
    }

    /// Indices i + 1 of the entries far above the median (see `minRatio`, `minLevel`), not at an end.
    static func outliers(_ differences: [Float]) -> [Int] {
        guard differences.count >= 8 else { return [] }
        let median = max(1, differences.sorted()[differences.count / 2])
        return differences.indices.filter { i in
            i > 0 && i < differences.count - 1 && differences[i] >= minLevel && differences[i] >= minRatio * median
        }.map { $0 + 1 }
    }

    public var isEmpty: Bool { columns.isEmpty && rows.isEmpty }

    /// Whether `object` has a mask pixel within `reach` pixels of a seam.
    public func cut(_ object: DetectedObject, reach: Int) -> Bool {
        for seam in columns where object.x - reach < seam && object.x + object.width + reach > seam {
            let from = max(0, seam - reach - object.x), to = min(object.width, seam + reach - object.x)
            for my in 0..<object.height {
                for mx in from..<max(from, to) where object.mask.bits[my * object.width + mx] != 0 { return true }
            }
        }
        for seam in rows where object.y - reach < seam && object.y + object.height + reach > seam {
            let from = max(0, seam - reach - object.y), to = min(object.height, seam + reach - object.y)
            for my in from..<max(from, to) {
                for mx in 0..<object.width where object.mask.bits[my * object.width + mx] != 0 { return true }
            }
        }
        return false
    }
}
