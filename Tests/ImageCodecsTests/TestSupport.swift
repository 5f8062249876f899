import Foundation
import Testing
import ImageCodecs

/// Locations and helpers shared by the codec tests.
enum TestSupport {
    /// The package root: this file is `<root>/Tests/ImageCodecsTests/TestSupport.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = packageRoot.appendingPathComponent("fixtures")

    /// The shared smear data sets (`../shared/data/smears` from the package root).
    static let smears = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/data/smears")

    /// A fresh temporary directory, removed by the caller with `FileManager.default.removeItem`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ImageCodecsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `body` with the path of a file named `name` holding `bytes` in a fresh temporary directory,
    /// which is removed afterwards.
    static func withTemporaryFile<R>(_ name: String, _ bytes: [UInt8], _ body: (String) throws -> R) throws -> R {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return try body(url.path)
    }

    /// The error `ImageCodecs.read(path:maxPixels:)` throws for a file named `name` holding `bytes`.
    static func readError(_ name: String, _ bytes: [UInt8],
                          maxPixels: Int = ImageCodecs.defaultMaxPixels) throws -> ImageError? {
        try withTemporaryFile(name, bytes) { path in
            error { () throws(ImageError) in try ImageCodecs.read(path: path, maxPixels: maxPixels) }
        }
    }

    /// Smooth, asymmetric content that lossy JPEG reproduces closely: gradients in three directions.
    static func smooth(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = (UInt8(30 + 190 * x / max(width - 1, 1)), UInt8(40 + 170 * y / max(height - 1, 1)),
                               UInt8(220 - 100 * (x + y) / max(width + height - 2, 1)))
            }
        }
        return image
    }

    /// Eight flat 16×16 blocks of distinct colours in 4 columns × 2 rows (64×32): asymmetric under
    /// every flip and rotation, and easy for JPEG.
    static func blocks() -> RGBImage {
        let colours: [(UInt8, UInt8, UInt8)] = [(220, 30, 30), (30, 200, 40), (40, 40, 210), (230, 230, 40),
                                                (20, 20, 20), (240, 240, 240), (200, 40, 200), (40, 200, 200)]
        var image = RGBImage(width: 64, height: 32)
        for y in 0..<32 { for x in 0..<64 { image[x, y] = colours[(y / 16) * 4 + x / 16] } }
        return image
    }

    /// The mean of each `factor`×`factor` block (cut short at the edges), rounded half up.
    static func boxAverage(_ image: RGBImage, factor: Int) -> RGBImage {
        let width = (image.width + factor - 1) / factor, height = (image.height + factor - 1) / factor
        var out = RGBImage(width: width, height: height)
        for oy in 0..<height {
            for ox in 0..<width {
                var sums = [0, 0, 0], n = 0
                for y in (oy * factor)..<min(oy * factor + factor, image.height) {
                    for x in (ox * factor)..<min(ox * factor + factor, image.width) {
                        let p = image[x, y]
                        sums[0] += Int(p.r); sums[1] += Int(p.g); sums[2] += Int(p.b); n += 1
                    }
                }
                out[ox, oy] = (UInt8((sums[0] + n / 2) / n), UInt8((sums[1] + n / 2) / n), UInt8((sums[2] + n / 2) / n))
            }
        }
        return out
    }

    /// The error `body` throws, or `nil` (recorded as a test issue) if it returns.
    static func error(_ body: () throws(ImageError) -> RGBImage) -> ImageError? {
        do {
            let image = try body()
            Issue.record("expected an error, decoded \(image.width)×\(image.height)")
            return nil
        } catch {
            return error
        }
    }

    /// A deterministic, asymmetric RGB test pattern: gradients in R and G, a checkerboard in B.
    static func pattern(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = (UInt8(truncatingIfNeeded: x * 255 / max(width - 1, 1)),
                               UInt8(truncatingIfNeeded: y * 255 / max(height - 1, 1)),
                               (x / 4 + y / 4) % 2 == 0 ? 40 : 200)
            }
        }
        return image
    }
}
