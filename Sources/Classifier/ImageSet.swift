import Dispatch
import Foundation
import ImageCodecs

/// Decoded images, fitted and resized to the network input, kept as 8-bit RGB (3·H·W bytes each).
public struct ImageSet: Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]
    public var labels: [Int]
    public var groups: [String]
    public var paths: [String]
    public var count: Int { labels.count }
    public var bytesPerImage: Int { width * height * 3 }

    /// Decodes `entries` on all cores and applies `preprocessing.resize`. Unreadable files are an error
    /// naming the file. Peak memory: the output (decoded straight into it) plus one decoded image per thread.
    public init(entries: [LabelledFolder.Entry], preprocessing: Preprocessing, width: Int, height: Int) throws {
        self.width = width; self.height = height
        let per = width * height * 3, n = entries.count
        var pixels = [UInt8](repeating: 0, count: n * per)
        let failures = FailureList()
        pixels.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            let parts = max(1, ProcessInfo.processInfo.activeProcessorCount * 4)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in stride(from: part, to: n, by: parts) {
                    do {
                        let image = preprocessing.resize(try ImageCodecs.read(path: entries[i].path), width: width, height: height)
                        image.pixels.withUnsafeBufferPointer { (out.baseAddress! + i * per).update(from: $0.baseAddress!, count: per) }
                    } catch { failures.add("\(error)") }
                }
            }
        }
        if let first = failures.first { throw DatasetError(description: first) }
        self.pixels = pixels
        labels = entries.map(\.label)
        groups = entries.map(\.group)
        paths = entries.map(\.path)
    }

    /// The images at `indices`, in that order (a copy). Cost: O(indices · bytesPerImage).
    public func subset(_ indices: [Int]) -> ImageSet {
        var copy = self
        copy.pixels = [UInt8](unsafeUninitializedCapacity: indices.count * bytesPerImage) { buffer, count in
            pixels.withUnsafeBufferPointer { source in
                for (n, i) in indices.enumerated() {
                    (buffer.baseAddress! + n * bytesPerImage).initialize(from: source.baseAddress! + i * bytesPerImage, count: bytesPerImage)
                }
            }
            count = indices.count * bytesPerImage
        }
        copy.labels = indices.map { labels[$0] }
        copy.groups = indices.map { groups[$0] }
        copy.paths = indices.map { paths[$0] }
        return copy
    }

    /// Image `i` as an `RGBImage`.
    public func image(_ i: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: Array(pixels[i * bytesPerImage ..< (i + 1) * bytesPerImage]))
    }
}

private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var first: String? { lock.lock(); defer { lock.unlock() }; return list.first }
}
