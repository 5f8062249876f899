import Foundation
@testable import ImageCodecs

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

    /// Writes `bytes` to `name` in a fresh temporary directory, returns its path.
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = try temporaryDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
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
