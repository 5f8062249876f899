import ArgumentParser
import Classifier
import Foundation
import Pipeline

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Store a model's operating point: its threshold, test-time symmetries and cross-validated error rates.",
        discussion: """
            Reads the cv.json that `smear cv` wrote for the model's recipe and writes into the model file \
            how the model is to be run (--threshold, --symmetries) and the out-of-fold sensitivity and \
            specificity that cross-validation measured there on the cells of --source. analyze, validate \
            and serve then use that threshold and those symmetries by default, and give every parasitemia \
            also corrected for the classifier's errors (Rogan–Gladen: (p + Sp − 1) / (Se + Sp − 1)), \
            which removes the false-positive floor that otherwise adds itself to low parasitemias \
            (MODEL.md, 'Operating point'). Its interval also carries the uncertainty of Se and Sp, from \
            the numbers of cells they were measured on (--cells). The weights are not changed.

            Example (the bundled model):
              smear calibrate cells.smnet --cv cv/cv.json --source IML --symmetries 4
            """)

    @Argument(help: ArgumentHelp("The model file (.smnet) to calibrate.", valueName: "model"))
    var model: String

    @Option(help: ArgumentHelp("The cv.json of `smear cv` for this model's recipe.", valueName: "file"))
    var cv: String

    @Option(help: "Source whose out-of-fold cells give the error rates (as cv.json names them: NIH, IML, Chula, BCCD, …).")
    var source: String

    @Option(help: "Test-time symmetries to run the model with: 1, 2, 4 or 8.")
    var symmetries = 1

    @Option(help: "Decision threshold (one of cv.json's tabulated thresholds).")
    var threshold = 0.5

    @Option(help: ArgumentHelp("What the rates were measured on, in words, as reports show it (default: the folds and the source's image counts in cv.json).", valueName: "text"))
    var measuredOn: String?

    @Option(help: ArgumentHelp("The distinct parasitized and uninfected cells the rates rest on, for the uncertainty of the adjusted interval (default: the source's images in cv.json; give it when the data set links images several times).", valueName: "positives,negatives"))
    var cells: String?

    @Option(name: .shortAndLong, help: "Where to write the calibrated model (default: over MODEL).")
    var out: String?

    func validate() throws {
        try ClassifierOptions.check(symmetries: symmetries)
        try ClassifierOptions.check(threshold: threshold)
    }

    func run() throws {
        let (model, _) = try ModelFile.load(path: model)
        guard model.positiveClassIndex != nil else { throw PipelineError("\(self.model): the model has no 'parasitized' class") }
        let input = model.network.inputShape
        if let problem = OperatingPoint.symmetryProblem(symmetries, inputWidth: input.width, inputHeight: input.height) {
            throw PipelineError("\(self.model): --symmetries: \(problem)")
        }
        guard let json = FileManager.default.contents(atPath: cv) else { throw PipelineError("\(cv): cannot be read") }
        var point = try OperatingPoint.read(crossValidation: json, name: cv, source: source, symmetries: symmetries, threshold: threshold)
        if let measuredOn { point.measuredOn = measuredOn }   // setOperatingPoint checks it
        if let cells {
            let counts = cells.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard counts.count == 2, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--cells: give POSITIVES,NEGATIVES, each at least 1") }
            (point.positives, point.negatives) = (counts[0], counts[1])
        }
        let path = out ?? self.model
        try ModelFile.setOperatingPoint(point, path: self.model, out: path)
        print(String(format: "%@: threshold %g, %d symmetr%@, sensitivity %.4f, specificity %.4f on %d and %d cells (%@)", path, point.threshold,
                     point.symmetries, point.symmetries == 1 ? "y" : "ies", point.sensitivity, point.specificity,
                     point.positives ?? 0, point.negatives ?? 0, point.measuredOn))
    }

}
