import Segmentation

/// SplitMix64: a tiny seeded generator, so that every random test image is reproducible from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builders of small test rasters.
enum TestImages {
    /// A `width`×`height` binary image with each pixel set with probability `density`.
    static func random(width: Int, height: Int, density: Double, seed: UInt64) -> BinaryImage {
        var rng = SeededGenerator(seed: seed)
        let bits = (0..<(width * height)).map { _ in UInt8(Double.random(in: 0..<1, using: &rng) < density ? 1 : 0) }
        return BinaryImage(width: width, height: height, bits: bits)
    }

    /// A `width`×`height` label image with labels in `1…count`: `rectangles` random rectangles (up to
    /// half the image across, some reaching its edge), each painted with a random label over the
    /// earlier ones, then `specks` single pixels with random labels (0 included). Labels that no
    /// pixel keeps have no pixels; regions of one label may be apart, and regions touch.
    static func randomLabels(width: Int, height: Int, count: Int, rectangles: Int, specks: Int, seed: UInt64) -> LabelImage {
        var rng = SeededGenerator(seed: seed)
        var labels = [Int32](repeating: 0, count: width * height)
        for _ in 0..<rectangles {
            let rw = Int.random(in: 1...max(1, width / 2), using: &rng), rh = Int.random(in: 1...max(1, height / 2), using: &rng)
            let x0 = Int.random(in: 0...(width - rw), using: &rng), y0 = Int.random(in: 0...(height - rh), using: &rng)
            let label = Int32.random(in: 1...Int32(count), using: &rng)
            for y in y0..<(y0 + rh) { for x in x0..<(x0 + rw) { labels[y * width + x] = label } }
        }
        for _ in 0..<specks {
            labels[Int.random(in: 0..<(width * height), using: &rng)] = Int32.random(in: 0...Int32(count), using: &rng)
        }
        return LabelImage(width: width, height: height, labels: labels, count: count)
    }

    /// A label image from rows of text: digits are labels, anything else background; `count` defaults
    /// to the largest label.
    static func labels(_ rows: [String], count: Int? = nil) -> LabelImage {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width })
        let labels = rows.flatMap { $0.map { Int32($0.wholeNumberValue ?? 0) } }
        return LabelImage(width: width, height: rows.count, labels: labels, count: count ?? Int(labels.max() ?? 0))
    }

    /// A `width`×`height` plane of random values in −1…1.
    static func randomPlane(width: Int, height: Int, seed: UInt64) -> Plane {
        var rng = SeededGenerator(seed: seed)
        return Plane(width: width, height: height, values: (0..<(width * height)).map { _ in Float.random(in: -1...1, using: &rng) })
    }

    /// A binary image from rows of text: `#` is foreground, anything else background.
    static func binary(_ rows: [String]) -> BinaryImage {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width })
        return BinaryImage(width: width, height: rows.count,
                           bits: rows.flatMap { $0.map { $0 == "#" ? UInt8(1) : 0 } })
    }

    /// The union of discs `(x − cx)² + (y − cy)² ≤ radius²` in a `width`×`height` image.
    static func discs(width: Int, height: Int, centres: [(Double, Double)], radius: Double) -> BinaryImage {
        var image = BinaryImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = centres.contains { c in
                    let dx = Double(x) - c.0, dy = Double(y) - c.1
                    return dx * dx + dy * dy <= radius * radius
                }
            }
        }
        return image
    }

    /// The naive `(2·radius + 1)²` disc neighbourhood: offsets with `dx² + dy² ≤ radius²`, compared in
    /// `Float` as the kernels compare squared distances.
    static func discOffsets(radius: Float) -> [(Int, Int)] {
        let reach = Int(radius)
        var offsets: [(Int, Int)] = []
        for dy in -reach...reach {
            for dx in -reach...reach where Float(dx * dx + dy * dy) <= radius * radius { offsets.append((dx, dy)) }
        }
        return offsets
    }
}
