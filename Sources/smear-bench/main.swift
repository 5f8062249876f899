import ArgumentParser
import Foundation

/// Benchmarks for smear (release builds only; see BENCHMARKS.md). Times are medians.
struct SmearBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smear-bench",
        abstract: "Benchmarks for smear (build with -c release).",
        subcommands: [SegmentBenchmark.self, PNGBenchmark.self, MakeSlideCommand.self, SegmentationCVCommand.self])
}

/// Seconds on the monotonic clock.
func wallSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Seconds of CPU time used by the calling thread.
func threadSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident set size of this process so far, in MB (getrusage).
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Files as given; folders expanded to their image files in name order.
func expandImagePaths(_ inputs: [String]) throws -> [String] {
    var out: [String] = []
    for input in inputs {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
            out += try FileManager.default.contentsOfDirectory(atPath: input).filter { !$0.hasPrefix(".") }.sorted()
                .map { (input as NSString).appendingPathComponent($0) }
        } else {
            out.append(input)
        }
    }
    return out
}

SmearBench.main()
