import ImageCodecs

/// The parasitemia of one sample (one patient's slide): infected red cells over red cells counted,
/// pooled over its fields in order until the target count is reached.
public struct SampleCount: Sendable {
    /// Name of the sample (given with --sample, or the folder's name with --samples-root).
    public var name: String
    /// The fields used, in the order analysed.
    public var fields: [FieldAnalysis]
    /// Fields given for the sample (the count stops early once the target is reached).
    public var fieldsAvailable: Int
    /// Red cells to count (WHO: 5,000 on a thin film); `nil` = count every field given.
    public var targetCells: Int?
    /// Red-cell density used to convert parasitemia into parasites per µL.
    public var redCellsPerMicrolitre: Double

    public init(name: String, fields: [FieldAnalysis], fieldsAvailable: Int, targetCells: Int?, redCellsPerMicrolitre: Double) {
        self.name = name
        self.fields = fields
        self.fieldsAvailable = fieldsAvailable
        self.targetCells = targetCells
        self.redCellsPerMicrolitre = redCellsPerMicrolitre
    }

    public var cellsCounted: Int { fields.reduce(0) { $0 + $1.cellsCounted } }
    public var parasitized: Int { fields.reduce(0) { $0 + $1.parasitized } }
    public var targetReached: Bool { targetCells.map { cellsCounted >= $0 } ?? true }
    /// Parasitized / counted, as a fraction (nil with no cells).
    public var parasitemia: Double? { cellsCounted > 0 ? Double(parasitized) / Double(cellsCounted) : nil }
    /// Wilson 95% interval of the parasitemia fraction.
    public var interval: (lower: Double, upper: Double)? { wilsonInterval(successes: parasitized, trials: cellsCounted) }
    /// Parasitized red cells per µL of blood: parasitemia × red-cell density.
    public var parasitesPerMicrolitre: Double? { parasitemia.map { $0 * redCellsPerMicrolitre } }
}

/// Analyses fields in order, `threads` at a time, calling `accept` (in order) for each field analysed;
/// with a `target`, stops after the field in which the count of counted cells reaches it (fields
/// analysed alongside beyond that one are dropped unseen). A field that fails quality control
/// (`FieldAnalysis.quality`) is passed to `accept` too, for its overlay, but does not count: it is
/// returned among `rejected` and `failures` ("NAME: failed quality control: reason"). `accept` may
/// run on several threads at once for fields of the same wave. A `PipelineError` from `accept` fails
/// that field only; any other error (e.g. the output folder cannot be written) stops the run and is
/// rethrown once the wave in progress is done. Returns the counted fields, the rejected ones and
/// the failures (path, message), each in input order.
public func analyzeInOrder(_ paths: [String], analyzer: FieldAnalyzer, target: Int?, threads: Int,
                           accept: @Sendable (FieldAnalysis, RGBImage) throws -> Void,
                           progress: @Sendable (String) -> Void = { _ in }) throws
    -> (fields: [FieldAnalysis], rejected: [FieldAnalysis], failures: [(path: String, message: String)]) {
    var fields: [FieldAnalysis] = [], rejected: [FieldAnalysis] = []
    var failures: [(index: Int, path: String, message: String)] = []
    var counted = 0
    var next = 0
    let wave = max(1, threads)
    while next < paths.count && (target.map { counted < $0 } ?? true) {
        let slice = Array(paths[next..<min(paths.count, next + wave)])
        next += slice.count
        let results = parallelMap(count: slice.count, threads: threads) { i -> Result<(FieldAnalysis, RGBImage), PipelineError> in
            do throws(PipelineError) { return .success(try analyzer.analyze(path: slice[i])) } catch { return .failure(error) }
        }
        // Keep fields in order up to the one that reaches the target.
        let first = next - slice.count
        var kept: [(FieldAnalysis, RGBImage)] = [], keptIndices: [Int] = []
        for (i, r) in results.enumerated() {
            if let target, counted >= target { break }
            switch r {
            case .success(let pair):
                kept.append(pair)
                keptIndices.append(first + i)
                if pair.0.quality.problem == nil { counted += pair.0.cellsCounted }
            case .failure(let e):
                failures.append((first + i, slice[i], e.description))
            }
            progress(slice[i])
        }
        let accepted = kept
        let outcomes = parallelMap(count: accepted.count, threads: threads) { i -> (any Error)? in
            do { try accept(accepted[i].0, accepted[i].1); return nil } catch { return error }
        }
        for (((field, _), index), error) in zip(zip(kept, keptIndices), outcomes) {
            switch error {
            case nil:
                if let problem = field.quality.problem {
                    rejected.append(field)
                    failures.append((index, field.path, "\(field.name): failed quality control: \(problem)"))
                } else {
                    fields.append(field)
                }
            case let fieldError as PipelineError: failures.append((index, field.path, fieldError.description))
            case let runError?: throw runError
            }
        }
    }
    return (fields, rejected, failures.sorted { $0.index < $1.index }.map { ($0.path, $0.message) })
}
