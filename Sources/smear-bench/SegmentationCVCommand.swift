import ArgumentParser
import Foundation
import ImageCodecs
import Pipeline
import Segmentation

/// `smear-bench segmentation-cv`: segmentation parameters chosen by grouped K-fold cross-validation
/// over annotated field sets (`SegmentationSelection`); the table goes to MODEL.md.
struct SegmentationCVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segmentation-cv",
        abstract: "Choose segmentation parameters by grouped K-fold cross-validation over annotated fields.",
        discussion: """
            Segments every field of each --set with the default parameters and with each variation \
            (--vary, one parameter at a time), validates it against its annotations (as `smear validate` \
            does, without a classifier), deals the field groups into folds (a group: the set and the file \
            name without its extension's last character before the dot, i.e. ten consecutively numbered \
            fields, PA171690.JPG → PA17169, 263.jpg → 26), and for each fold chooses the setting with \
            the best objective on the other folds: summed over sets, recall minus how far the count ratio \
            (fields with ≥ 60 annotations) lies outside --ratio-band. It prints each fold's choice with its and \
            the default's figures on the held-out fold, then every setting's figures on all fields.

            Example (MODEL.md, "Segmentation parameters by cross-validation"):
              smear-bench segmentation-cv --set iml=$D/iml-malaria/images,$D/iml-malaria/cells.csv \\
                --set chula=$D/chula-rbc12/images,$D/chula-rbc12/cells.csv
            """)

    @Option(help: ArgumentHelp("An annotated field set: NAME=IMAGES,CELLS_CSV (repeatable).", valueName: "set"))
    var set: [String]

    @Option(help: ArgumentHelp("A variation: PARAMETER=V1,V2,… of minCentreScore, splitDepth, minCentreSeparation, minCellArea, workingDiameter (repeatable; default: two values around each).", valueName: "variation"))
    var vary: [String] = []

    @Option(help: ArgumentHelp("Count ratios the objective accepts without penalty: LOW,HIGH (issue 12's targets).", valueName: "low,high"))
    var ratioBand = "0.95,1.08"

    @Option(help: "Folds.")
    var folds = 5

    @Option(help: "Seed of the fold assignment.")
    var seed: UInt64 = 1

    @Option(help: "Threads (fields segmented in parallel).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    static let defaultVariations = ["minCentreScore=0.03,0.08", "splitDepth=0.08,0.16", "minCentreSeparation=0.65,0.85",
                                    "minCellArea=0.2,0.4", "workingDiameter=14,20"]

    /// The default parameters, then one setting per value of each variation.
    func settings() throws -> [SegmentationSelection.Setting] {
        var out = [SegmentationSelection.Setting(name: "default", parameters: SegmentationParameters())]
        for variation in vary.isEmpty ? Self.defaultVariations : vary {
            let parts = variation.split(separator: "=", maxSplits: 1).map(String.init)
            let values = parts.count == 2 ? parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
            guard parts.count == 2, !values.isEmpty, values.allSatisfy({ $0.map { $0.isFinite && $0 > 0 } ?? false }) else {
                throw ValidationError("--vary \(variation): give PARAMETER=V1,V2 with positive numbers")
            }
            for value in values.map({ $0! }) {
                var p = SegmentationParameters()
                switch parts[0] {
                case "minCentreScore": p.minCentreScore = value
                case "splitDepth": p.splitDepth = value
                case "minCentreSeparation": p.minCentreSeparation = value
                case "minCellArea": p.minCellArea = value
                case "workingDiameter": p.workingDiameter = value
                default: throw ValidationError("--vary: unknown parameter '\(parts[0])'")
                }
                out.append(.init(name: "\(parts[0])=\(value)", parameters: p))
            }
        }
        return out
    }

    func run() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        let bounds = ratioBand.split(separator: ",").compactMap { Double($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1], bounds.allSatisfy(\.isFinite) else { throw ValidationError("--ratio-band: give LOW,HIGH") }
        let band = bounds[0] ... bounds[1]
        let settings = try settings()
        var found: [(set: String, path: String, annotations: [Annotation])] = []
        for spec in set {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let files = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
            guard files.count == 2 else { throw ValidationError("--set \(spec): give NAME=IMAGES,CELLS_CSV") }
            let annotations = try Annotation.load(csv: files[1])
            for path in try expandImagePaths([files[0]]) {
                if let a = annotations[(path as NSString).lastPathComponent] { found.append((parts[0], path, a)) }
            }
        }
        let jobs = found
        guard !jobs.isEmpty else { throw ValidationError("no annotated field in the --set folders") }
        /// The fields as they are validated, from several threads.
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var fields: [SegmentationSelection.Field?]
            var done = 0
            init(_ n: Int) { fields = .init(repeating: nil, count: n) }
        }
        let results = Results(jobs.count)
        let start = wallSeconds(), threads = max(1, self.threads)
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for i in stride(from: worker, to: jobs.count, by: threads) {
                let job = jobs[i], name = (job.path as NSString).lastPathComponent
                let image = try? ImageCodecs.read(path: job.path)
                let validations = settings.map { s -> FieldValidation? in
                    guard let image, let segmentation = try? CellSegmenter(parameters: s.parameters).segment(image) else { return nil }
                    return FieldValidation(image: name, segmentation: segmentation, annotations: job.annotations)
                }
                let stem = (name as NSString).deletingPathExtension
                let field = SegmentationSelection.Field(set: job.set, group: String(stem.dropLast()), validations: validations)
                results.lock.lock(); results.fields[i] = field; results.done += 1
                if results.done % 50 == 0 || results.done == jobs.count {
                    FileHandle.standardError.write(Data(String(format: "[%d/%d] fields, %.0f s\n", results.done, jobs.count, wallSeconds() - start).utf8))
                }
                results.lock.unlock()
            }
        }
        let selection = SegmentationSelection(settings: settings, fields: results.fields.map { $0! })
        let sets = Set(jobs.map(\.set)).sorted()
        func describe(_ f: [String: SegmentationSelection.Figures]) -> String {
            sets.map { s in
                let x = f[s] ?? .init()
                return "\(s) recall \(x.recall.map { String(format: "%.4f", $0) } ?? "-") ratio \(x.denseCountRatio.map { String(format: "%.3f", $0) } ?? "-")"
            }.joined(separator: ", ")
        }
        print("objective: recall minus the count ratio's distance from \(band.lowerBound)–\(band.upperBound), summed over sets")
        print("\(jobs.count) fields (\(sets.map { s in "\(s) \(jobs.filter { $0.set == s }.count)" }.joined(separator: ", "))), \(settings.count) settings, \(folds) folds by field group")
        let choices = selection.select(folds: folds, seed: seed, band: band)
        for c in choices {
            print("fold \(c.fold + 1): chose \(settings[c.chosen].name) | held out: \(describe(c.chosenFigures)) | default: \(describe(c.defaultFigures))")
        }
        let wins = Dictionary(grouping: choices, by: \.chosen).mapValues(\.count)
        print("chosen: " + wins.sorted { $0.value > $1.value }.map { "\(settings[$0.key].name) in \($0.value) of \(folds) folds" }.joined(separator: ", "))
        for s in sets {
            for (label, pick) in [("chosen", { (c: SegmentationSelection.FoldChoice) in c.chosenFigures }), ("default", { $0.defaultFigures })] {
                let recalls = choices.compactMap { pick($0)[s]?.recall }, ratios = choices.compactMap { pick($0)[s]?.denseCountRatio }
                print(String(format: "%@, %@ setting on held-out folds: recall %@, count ratio %@", s, label, spread(recalls), spread(ratios)))
            }
        }
        print("every setting on all fields (objective, then per set):")
        for (i, setting) in settings.enumerated() {
            let f = selection.figures(setting: i) { _ in true }
            print(String(format: "  %-26@ %.4f  %@", setting.name, SegmentationSelection.objective(f, band: band), describe(f)))
        }
        print(String(format: "%.0f s, peak %.0f MB", wallSeconds() - start, peakResidentMegabytes()))
    }

    /// "mean ± sd (min–max)" of `values`, or "-".
    func spread(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "-" }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = values.count > 1 ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
        return String(format: "%.4f ± %.4f (%.4f–%.4f)", mean, sd, values.min()!, values.max()!)
    }
}
