import CPNG
import Foundation
import ImageCodecs

// codec-bench: PNG encoding time and size on real fields, ImageCodecs' encoder against libpng's
// simplified writer (the encoder ImageCodecs used before). Prints a Markdown table; see BENCHMARKS.md.
//
//     swift build -c release --product codec-bench
//     .build/release/codec-bench [--runs N] IMAGE...
//
// Each image is decoded with ImageCodecs.read, then every encoder runs it 2 times untimed and N times
// (default 15) timed; the table gives the median wall-clock and thread-CPU time per encode and the size.
// Every output is checked to decode back to the exact pixels.

/// Seconds on `clock` (CLOCK_MONOTONIC: wall; CLOCK_THREAD_CPUTIME_ID: this thread's CPU time).
func seconds(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// libpng's simplified writer, as `ImageCodecs.encodePNG` called it before it moved onto zlib.
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
    let bytes = image.pixels.withUnsafeBytes { pixels in
        [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let ok = png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            precondition(ok != 0, "libpng failed")
            initialized = size
        }
    }
    return bytes
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

var arguments = Array(CommandLine.arguments.dropFirst())
var runs = 15
if let i = arguments.firstIndex(of: "--runs"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 {
    runs = n
    arguments.removeSubrange(i...(i + 1))
}
guard !arguments.isEmpty else {
    print("usage: codec-bench [--runs N] IMAGE...")
    exit(2)
}

let encoders: [(String, (RGBImage) -> [UInt8])] = [
    ("libpng simplified, FAST flag (before, fast: true)", { libpngEncode($0, fast: true) }),
    ("libpng simplified, default (before, fast: false)", { libpngEncode($0, fast: false) }),
    ("zlib: Up + level 1 Z_RLE (now, fast: true)", { try! ImageCodecs.encodePNG($0, fast: true) }),
    ("zlib: adaptive + level 6 (now, fast: false)", { try! ImageCodecs.encodePNG($0, fast: false) }),
]

print("| image | encoder | wall ms (median) | CPU ms (median) | bytes | % of raw |")
print("|---|---|---:|---:|---:|---:|")
for path in arguments {
    let image: RGBImage
    do { image = try ImageCodecs.read(path: path) } catch {
        print("codec-bench: \(error)")
        exit(1)
    }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    for (label, encode) in encoders {
        var bytes: [UInt8] = []
        for _ in 0..<2 { bytes = encode(image) }
        guard (try? ImageCodecs.decode(bytes, name: name)) == image else {
            print("codec-bench: \(label) does not round-trip \(name)")
            exit(1)
        }
        var wall: [Double] = [], cpu: [Double] = []
        for _ in 0..<runs {
            let w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_THREAD_CPUTIME_ID)
            bytes = encode(image)
            cpu.append(seconds(CLOCK_THREAD_CPUTIME_ID) - c0)
            wall.append(seconds(CLOCK_MONOTONIC) - w0)
        }
        let percent: Double = 100 * Double(bytes.count) / Double(image.pixels.count)
        let wallMs: Double = 1000 * median(wall), cpuMs: Double = 1000 * median(cpu)
        let figures = String(format: "%.1f | %.1f | %d | %.1f", wallMs, cpuMs, bytes.count, percent)
        print("| \(name) (\(image.width)×\(image.height)) | \(label) | \(figures) |")
    }
}
