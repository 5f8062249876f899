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
