import ArgumentParser
import CPNG
import Foundation
import ImageCodecs

/// PNG encoding time and size on real fields: ImageCodecs' encoder (both modes) against libpng's
/// simplified writer (what ImageCodecs first used). Each encoder runs twice untimed, then `runs`
/// times timed; the table gives medians of wall-clock and thread CPU time, and checks every output
/// decodes back to the exact pixels. Prints a Markdown table.
struct PNGBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "png", abstract: "Time PNG encoding of fields (Markdown table).")

    @Argument(help: "Images to encode (decoded first).")
    var images: [String]

    @Option(help: "Timed runs per encoder and image.")
    var runs = 15

    func run() throws {
        let encoders: [(String, (RGBImage) throws -> [UInt8])] = [
            ("libpng simplified, FAST flag", { libpngEncode($0, fast: true) }),
            ("libpng simplified, default", { libpngEncode($0, fast: false) }),
            ("ImageCodecs fast: Up + libdeflate level 1", { try ImageCodecs.encodePNG($0, fast: true) }),
            ("ImageCodecs small: adaptive + zlib level 6", { try ImageCodecs.encodePNG($0, fast: false) }),
        ]
        print("| image | encoder | wall ms (median) | CPU ms (median) | bytes | % of raw |")
        print("|---|---|---:|---:|---:|---:|")
        for path in images {
            let image = try ImageCodecs.read(path: path)
            let name = (path as NSString).lastPathComponent
            for (label, encode) in encoders {
                var bytes: [UInt8] = []
                for _ in 0..<2 { bytes = try encode(image) }
                guard (try? ImageCodecs.decode(bytes, name: name)) == image else {
                    throw ValidationError("\(label) does not round-trip \(name)")
                }
                var wall: [Double] = [], cpu: [Double] = []
                for _ in 0..<runs {
                    let w0 = wallSeconds(), c0 = threadSeconds()
                    bytes = try encode(image)
                    cpu.append(threadSeconds() - c0)
                    wall.append(wallSeconds() - w0)
                }
                print(String(format: "| %@ (%d×%d) | %@ | %.1f | %.1f | %d | %.1f |", name, image.width, image.height, label,
                             1000 * median(wall), 1000 * median(cpu), bytes.count, 100 * Double(bytes.count) / Double(image.pixels.count)))
            }
        }
    }

    /// libpng's simplified writer.
    func libpngEncode(_ image: RGBImage, fast: Bool) -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        png.flags = fast ? UInt32(PNG_IMAGE_FLAG_FAST) : 0
        let raw = image.height * (1 + 3 * image.width)
        let capacity = raw + raw / 8 + raw / 64 + 4096
        var size = capacity
        return image.pixels.withUnsafeBytes { pixels in
            [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                let ok = png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
                precondition(ok != 0, "libpng failed")
                initialized = size
            }
        }
    }
}
