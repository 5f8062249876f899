import ImageCodecs

/// The EXIF/TIFF orientation values as the specification defines them, independently of the decoder:
/// which visual side the stored 0th row and 0th column represent.
enum Orientation {
    enum Side { case top, bottom, left, right }

    static let sides: [Int: (row0: Side, column0: Side)] = [
        1: (.top, .left), 2: (.top, .right), 3: (.bottom, .right), 4: (.bottom, .left),
        5: (.left, .top), 6: (.right, .top), 7: (.right, .bottom), 8: (.left, .bottom),
    ]

    /// How a viewer shows `stored` when it is tagged with `orientation`.
    static func displayed(_ stored: RGBImage, orientation: Int) -> RGBImage {
        let (row0, column0) = sides[orientation]!
        let swaps = row0 == .left || row0 == .right
        let width = swaps ? stored.height : stored.width, height = swaps ? stored.width : stored.height
        var shown = RGBImage(width: width, height: height)
        for sy in 0..<stored.height {
            for sx in 0..<stored.width {
                var x = 0, y = 0
                switch row0 {  // stored row sy runs along this side
                case .top: y = sy
                case .bottom: y = height - 1 - sy
                case .left: x = sy
                case .right: x = width - 1 - sy
                }
                switch column0 {  // stored column sx runs along this side
                case .left: x = sx
                case .right: x = width - 1 - sx
                case .top: y = sx
                case .bottom: y = height - 1 - sx
                }
                shown[x, y] = stored[sx, sy]
            }
        }
        return shown
    }

    /// Mean absolute difference per sample (∞ if the sizes differ).
    static func meanDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
        guard a.width == b.width, a.height == b.height else { return .infinity }
        let total = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(max(a.pixels.count, 1))
    }
}
