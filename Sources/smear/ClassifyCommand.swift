import ArgumentParser
import Classifier
import Foundation
import ImageCodecs
import NeuralNetwork
import Pipeline
import Reports

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify single-cell images and optionally draw Grad-CAM heatmaps.",
        discussion: """
            Each IMAGE is one cell crop (PNG, JPEG or TIFF), e.g. a cell on a black background as in the NIH \
            set. Prints one line per image: the file, the predicted class and its probability (with --all, \
            every class's probability). With --heatmaps DIR, writes DIR/<name>.gradcam.png: the crop with a \
            Grad-CAM heatmap of the predicted class overlaid (red = pixels that raised that class's score most).
            """)

    @Argument(help: "Cell images to classify.")
    var images: [String]

    @Option(name: .shortAndLong, help: "Model file (default: the bundled model).")
    var model: String?

    @Option(help: "Folder for Grad-CAM overlays (created if missing).")
    var heatmaps: String?

    @Flag(help: "Print every class's probability.")
    var all = false

    @Flag(help: "Print the results as JSON on stdout.")
    var json = false

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    struct Result: Codable {
        var file: String
        var predicted: String
        var probability: Float
        var probabilities: [String: Float]
        var heatmap: String?
    }

    mutating func run() throws {
        if let threads { Parallel.threads = threads }
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        let classifier = try model.map { path throws(ModelFileError) in try CellClassifier(contentsOf: path) } ?? CellClassifier.bundled()
        let crops = try images.map { path throws(ImageError) in try ImageCodecs.read(path: path) }
        let probabilities: [[Float]]
        do { probabilities = try classifier.checkedProbabilities(crops) } catch {
            throw PipelineError("\(model ?? "bundled model"): " + error.message(for: images[error.crop]))
        }
        if let heatmaps { try FileManager.default.createDirectory(atPath: heatmaps, withIntermediateDirectories: true) }
        let names = classifier.classNames
        var results: [Result] = []
        // Heatmap names: the crop's name made safe and unique, as overlays are named.
        let stems = overlayFileNames(for: images).map { String($0.dropFirst("overlays/".count).dropLast(".png".count)) }
        for (index, (path, (crop, p))) in zip(images, zip(crops, probabilities)).enumerated() {
            let best = p.indices.max { p[$0] < p[$1] }!
            var result = Result(file: path, predicted: names[best], probability: p[best],
                                probabilities: Dictionary(uniqueKeysWithValues: zip(names, p)))
            if let heatmaps {
                let cam = classifier.gradCAM(crop, classIndex: best)
                let out = (heatmaps as NSString).appendingPathComponent(stems[index] + ".gradcam.png")
                try writeAtomically(ImageCodecs.encodePNG(cam.overlay(on: crop)), to: out)
                result.heatmap = out
            }
            results.append(result)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        for r in results {
            var line = "\(r.file): \(r.predicted) \(String(format: "%.4f", r.probability))"
            if all { line += " (" + names.map { "\($0) \(String(format: "%.4f", r.probabilities[$0]!))" }.joined(separator: ", ") + ")" }
            if let h = r.heatmap { line += " → \(h)" }
            print(line)
        }
    }

    private func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)), rename(temp, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temp)
            throw ValidationError("\(path): cannot be written")
        }
    }
}
