/// PNG row filters (PNG specification §9) for 8-bit RGB rows.
///
/// A filtered row is one filter-type byte followed by each byte of the row minus a prediction from the
/// byte one pixel (3 bytes) to the left (`a`), the byte above (`b`) and the byte above-left (`c`), modulo
/// 256; bytes left of the row count as 0. For the first row of an image pass a row of zeros as `above`.
enum PNGRowFilter {
    /// Filter types: None, Sub (a), Up (b), Average ((a + b) / 2), Paeth (a, b or c, whichever is
    /// nearest to a + b − c).
    static let none: UInt8 = 0, sub: UInt8 = 1, up: UInt8 = 2, average: UInt8 = 3, paeth: UInt8 = 4

    /// Writes `1 + count` bytes to `out`: the Up filter type and `row − above`.
    /// Cost: one vectorisable pass over `count` bytes.
    @inline(__always)
    static func filterUp(_ row: UnsafePointer<UInt8>, above: UnsafePointer<UInt8>, count: Int,
                         into out: UnsafeMutablePointer<UInt8>) {
        out[0] = up
        let residual = out + 1
        for i in 0..<count { residual[i] = row[i] &- above[i] }
    }

    /// Writes `1 + count` bytes to `out`: the row under the filter whose residuals have the smallest sum
    /// of absolute values (taken as signed bytes) — libpng's heuristic for choosing filters adaptively.
    /// `scratch` must hold `4 · count` bytes. Cost: one pass over `count` bytes computing all five
    /// filters, and one copy.
    static func filterAdaptive(_ row: UnsafePointer<UInt8>, above: UnsafePointer<UInt8>, count: Int,
                               scratch: UnsafeMutablePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        let subRow = scratch, upRow = scratch + count, averageRow = scratch + 2 * count, paethRow = scratch + 3 * count
        @inline(__always) func magnitude(_ v: UInt8) -> Int { Int(v < 128 ? v : 0 &- v) }
        var noneCost = 0, subCost = 0, upCost = 0, averageCost = 0, paethCost = 0
        for i in 0..<count {
            let x = row[i], a = i >= 3 ? row[i - 3] : 0, b = above[i], c = i >= 3 ? above[i - 3] : 0
            subRow[i] = x &- a
            upRow[i] = x &- b
            averageRow[i] = x &- UInt8((UInt16(a) + UInt16(b)) >> 1)
            paethRow[i] = x &- paethPredictor(a, b, c)
            noneCost += magnitude(x); subCost += magnitude(subRow[i]); upCost += magnitude(upRow[i])
            averageCost += magnitude(averageRow[i]); paethCost += magnitude(paethRow[i])
        }
        var best = (none, row, noneCost)
        for candidate in [(sub, UnsafePointer(subRow), subCost), (up, UnsafePointer(upRow), upCost),
                          (average, UnsafePointer(averageRow), averageCost), (paeth, UnsafePointer(paethRow), paethCost)]
        where candidate.2 < best.2 {
            best = candidate
        }
        out[0] = best.0
        (out + 1).update(from: best.1, count: count)
    }

    /// Of `a` (left), `b` (above) and `c` (above-left), the one nearest to `a + b − c`; ties prefer
    /// `a`, then `b`.
    @inline(__always)
    static func paethPredictor(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let pa = abs(Int(b) - Int(c)), pb = abs(Int(a) - Int(c)), pc = abs(Int(a) + Int(b) - 2 * Int(c))
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }
}
