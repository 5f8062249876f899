import ImageCodecs

/// A test slide made of microscope fields laid edge to edge in a grid, row by row, reusing the fields in
/// order as often as needed: the field at column `c`, row `r` is field number `(r · columns + c) mod
/// fieldCount`, flipped when `mirrored`. The slide may cut the last column and row of fields short.
///
/// Feeds `PyramidTIFFWriter` band by band (`rows(from:count:load:)`), so a mosaic of any size is built
/// in the memory of one band of rows and one decoded field.
public struct FieldMosaic: Sendable, Equatable {
    /// Size of every field, in pixels.
    public let fieldWidth: Int
    public let fieldHeight: Int
    /// How many different fields there are to place.
    public let fieldCount: Int
    /// Size of the slide, in pixels.
    public let width: Int
    public let height: Int
    /// Whether fields in odd columns are flipped left to right and those in odd rows top to bottom, so
    /// that neighbours of one field meet pixel for pixel: a mosaic of a single field is then seamless
    /// (no stitching seam for `Seams` to find), as a scanner's blended slide is.
    public var mirrored = false

    /// Fields per row and per column of the grid (the last ones possibly cut by the slide's edge).
    public var columns: Int { (width + fieldWidth - 1) / fieldWidth }
    public var rows: Int { (height + fieldHeight - 1) / fieldHeight }

    /// A mosaic of exactly `width × height` pixels.
    public init(fieldWidth: Int, fieldHeight: Int, fieldCount: Int, width: Int, height: Int) {
        precondition(fieldWidth > 0 && fieldHeight > 0 && fieldCount > 0 && width > 0 && height > 0,
                     "sizes and the field count must be positive")
        self.fieldWidth = fieldWidth
        self.fieldHeight = fieldHeight
        self.fieldCount = fieldCount
        self.width = width
        self.height = height
    }

    /// The smallest grid of whole fields, about twice as wide as high (a smear's counting area is longer
    /// than wide), with at least `gigapixels · 10⁹` pixels.
    public init(fieldWidth: Int, fieldHeight: Int, fieldCount: Int, gigapixels: Double) {
        precondition(gigapixels > 0 && gigapixels.isFinite, "the size must be positive")
        let fields = Int((gigapixels * 1e9 / Double(fieldWidth * fieldHeight)).rounded(.up))
        let columns = max(1, Int((Double(fields) * 2 * Double(fieldHeight) / Double(fieldWidth)).squareRoot().rounded()))
        let rows = (fields + columns - 1) / columns
        self.init(fieldWidth: fieldWidth, fieldHeight: fieldHeight, fieldCount: fieldCount,
                  width: columns * fieldWidth, height: rows * fieldHeight)
    }

    /// The number of the field placed at `column`, `row` of the grid.
    public func field(column: Int, row: Int) -> Int {
        (row * columns + column) % fieldCount
    }

    /// Rows `y..<y+count` of the slide, full width. `load(n)` returns field number `n`
    /// (`fieldWidth × fieldHeight`); it is called once for every field the rows cross. Throws what
    /// `load` throws. Cost: a decode of each field crossed and one `3·width·count`-byte image.
    public func rows(from y: Int, count: Int,
                     load: (Int) throws(ImageError) -> RGBImage) throws(ImageError) -> RGBImage {
        precondition(y >= 0 && count > 0 && y + count <= height, "rows outside the mosaic")
        var band = RGBImage(width: width, height: count)
        for row in (y / fieldHeight)...((y + count - 1) / fieldHeight) {
            let top = row * fieldHeight
            let first = max(y, top), last = min(y + count, top + fieldHeight)  // slide rows from this field row
            for column in 0..<columns {
                let image = try load(field(column: column, row: row))
                precondition(image.width == fieldWidth && image.height == fieldHeight,
                             "field \(field(column: column, row: row)) is \(image.width)×\(image.height), not \(fieldWidth)×\(fieldHeight)")
                let left = column * fieldWidth, columnsHere = min(fieldWidth, width - left)
                let flipX = mirrored && column % 2 == 1, flipY = mirrored && row % 2 == 1
                image.pixels.withUnsafeBufferPointer { source in
                    band.pixels.withUnsafeMutableBufferPointer { destination in
                        for slideRow in first..<last {
                            let fieldRow = flipY ? fieldHeight - 1 - (slideRow - top) : slideRow - top
                            let from = 3 * fieldRow * fieldWidth
                            let to = 3 * ((slideRow - y) * width + left)
                            if flipX {
                                for i in 0..<columnsHere {
                                    let f = from + 3 * (fieldWidth - 1 - i)
                                    destination[to + 3 * i] = source[f]
                                    destination[to + 3 * i + 1] = source[f + 1]
                                    destination[to + 3 * i + 2] = source[f + 2]
                                }
                            } else {
                                for i in 0..<(3 * columnsHere) { destination[to + i] = source[from + i] }
                            }
                        }
                    }
                }
            }
        }
        return band
    }
}
