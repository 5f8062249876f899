import Foundation
import ImageCodecs
import Segmentation
import Classifier

/// The analysis of one microscope field: where its cells are, what the classifier said about each
/// counted cell, and how long it took.
public struct FieldAnalysis: Sendable {
    /// The path as given (or as found in a given folder).
    public var path: String
    /// The file name, used to name outputs (overlays) and to match annotations.
    public var name: String { (path as NSString).lastPathComponent }
    public var width: Int { segmentation.width }
    public var height: Int { segmentation.height }
    public var segmentation: SegmentationResult
    /// The classifier's call for each counted cell, by object id; empty when no classifier ran.
    public var calls: [Int: CellCall]
    /// Wall-clock seconds to decode, segment and classify this field.
    public var seconds: Double
    /// The plausibility checks; a field with a `quality.problem` is not counted.
    public var quality: FieldQuality

    public init(path: String, segmentation: SegmentationResult, calls: [Int: CellCall], seconds: Double) {
        self.path = path
        self.segmentation = segmentation
        self.calls = calls
        self.seconds = seconds
        self.quality = FieldQuality(segmentation: segmentation, calls: calls)
    }

    public var cellsCounted: Int { segmentation.count(.counted) }
    /// Counted cells called parasitized (0 when no classifier ran).
    public var parasitized: Int { calls.values.reduce(0) { $0 + ($1.parasitized ? 1 : 0) } }
    /// The field's counts and figures.
    public var tally: Tally { Tally(counted: cellsCounted, parasitized: parasitized) }
}

/// The classifier's verdict on one cell.
public struct CellCall: Sendable, Equatable {
    /// Probability of the parasitized class.
    public var pParasitized: Double
    /// Whether `pParasitized` reaches the decision threshold.
    public var parasitized: Bool

    public init(pParasitized: Double, parasitized: Bool) {
        self.pParasitized = pParasitized
        self.parasitized = parasitized
    }
}

/// Decodes, segments and (with a classifier) classifies fields. Safe to use from several threads.
public struct FieldAnalyzer: Sendable {
    public var segmenter: CellSegmenter
    /// Classifies every counted cell when set.
    public var classifier: CellClassifier?
    /// A cell is called parasitized when its probability reaches this.
    public var threshold: Double

    public init(segmenter: CellSegmenter = CellSegmenter(), classifier: CellClassifier? = nil, threshold: Double = 0.5) {
        self.segmenter = segmenter
        self.classifier = classifier
        self.threshold = threshold
    }

    /// Decodes, segments and classifies the field at `path`, returning the decoded image too (for
    /// overlays and crops). Throws `PipelineError` with a one-line message that names the file.
    public func analyze(path: String) throws(PipelineError) -> (FieldAnalysis, RGBImage) {
        let start = DispatchTime.now()
        let image: RGBImage
        do {
            image = try ImageCodecs.read(path: path)
        } catch {
            throw PipelineError(error.description)
        }
        return (try analyze(image, path: path, since: start), image)
    }

    /// Segments and classifies `image`, a field (or a slide's tile) read from `path`; `since` is when
    /// its reading began, for `seconds`. Errors are one line naming the file.
    public func analyze(_ image: RGBImage, path: String, since start: DispatchTime = .now()) throws(PipelineError) -> FieldAnalysis {
        let name = (path as NSString).lastPathComponent
        let segmentation: SegmentationResult
        do {
            segmentation = try segmenter.segment(image)
        } catch {
            throw PipelineError("\(name): \(error.description)")
        }
        var calls: [Int: CellCall] = [:]
        if let classifier, let positive = classifier.positiveClassIndex {
            let counted = segmentation.objects.filter { $0.status == .counted }
            let probabilities: [[Float]]
            do {
                probabilities = try classifier.checkedProbabilities(counted.map { classifier.crop(of: $0, in: image) })
            } catch {
                throw PipelineError("\(name): " + error.message(for: "cell \(counted[error.crop].id)"))
            }
            for (object, p) in zip(counted, probabilities) {
                let pp = Double(p[positive])
                calls[object.id] = CellCall(pParasitized: pp, parasitized: pp >= threshold)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return FieldAnalysis(path: path, segmentation: segmentation, calls: calls, seconds: seconds)
    }
}

/// Expands command-line inputs: files are kept as given, folders become every image file directly
/// inside them (PNG, JPEG, TIFF and slide formats by extension, hidden files skipped), in name order. An input that
/// cannot be used is an error naming it and the reason (missing, a broken or looping symbolic link,
/// no permission, a folder without images).
public func expandInputs(_ inputs: [String]) throws(PipelineError) -> [String] {
    var paths: [String] = []
    let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "btf", "svs", "ndpi", "mrxs", "scn", "bif", "vms"]
    for input in inputs {
        var info = stat()
        guard stat(input, &info) == 0 else { throw PipelineError("\(input): \(unusablePathReason(input))") }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: input)
            } catch {
                throw PipelineError("\(input): cannot list the folder")
            }
            let images = names.filter { !$0.hasPrefix(".") && imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
            guard !images.isEmpty else { throw PipelineError("\(input): no PNG, JPEG, TIFF or slide images in this folder") }
            paths += images.map { (input as NSString).appendingPathComponent($0) }
        } else {
            paths.append(input)
        }
    }
    return paths
}

/// Why `stat(path)` just failed, in words (reads `errno`).
func unusablePathReason(_ path: String) -> String {
    let error = errno
    var info = stat()
    switch error {
    case ENOENT where lstat(path, &info) == 0: return "a symbolic link to something that does not exist"
    case ENOENT: return "no such file or folder"
    case ELOOP: return "a loop of symbolic links"
    case ENOTDIR: return "a part of the path is a file, not a folder"
    default: return String(cString: strerror(error)).lowercased()
    }
}

/// Runs `body` for indices `0..<count` on up to `threads` threads and returns the results in index
/// order. Work is handed out one index at a time, so slow items do not hold up the rest.
public func parallelMap<T: Sendable>(count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let box = WorkQueue<T>(count)
    DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
        while true {
            box.lock.lock()
            let i = box.next
            box.next += 1
            box.lock.unlock()
            guard i < count else { return }
            let r = body(i)
            box.lock.lock()
            box.results[i] = r
            box.lock.unlock()
        }
    }
    return box.results.map { $0! }
}

/// Shared state of `parallelMap`: the next index to hand out and the results, behind one lock.
private final class WorkQueue<T>: @unchecked Sendable {
    var results: [T?]
    var next = 0
    let lock = NSLock()
    init(_ n: Int) { results = [T?](repeating: nil, count: n) }
}
