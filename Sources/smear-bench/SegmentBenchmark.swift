import ArgumentParser
import Foundation
import ImageCodecs
import Segmentation

/// Decode + segment time per field on one thread: every field is decoded and segmented `warmup`
/// times untimed, then `runs` times timed; the figures are medians over fields of each field's median.
struct SegmentBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Time decoding and segmenting fields on one thread (median over fields of per-field medians).")

    @Argument(help: "Field images or folders.")
    var images: [String]

    @Option(help: "Timed runs per field.")
    var runs = 5

    @Option(help: "Use at most this many fields.")
    var limit = Int.max

    func run() throws {
        let paths = Array(try expandImagePaths(images).prefix(limit))
        var decode: [Double] = [], segment: [Double] = [], total: [Double] = []
        for path in paths {
            var d: [Double] = [], s: [Double] = []
            for run in 0..<(runs + 1) {
                let t0 = threadSeconds()
                let image = try ImageCodecs.read(path: path)
                let t1 = threadSeconds()
                _ = try CellSegmenter().segment(image)
                let t2 = threadSeconds()
                if run > 0 { d.append(t1 - t0); s.append(t2 - t1) }
            }
            decode.append(median(d)); segment.append(median(s)); total.append(median(zip(d, s).map(+)))
        }
        print(String(format: "fields %d, runs %d: decode %.1f ms, segment %.1f ms, decode+segment %.1f ms (median, thread CPU time); peak RSS %.0f MB",
                     paths.count, runs, 1000 * median(decode), 1000 * median(segment), 1000 * median(total), peakResidentMegabytes()))
    }
}
