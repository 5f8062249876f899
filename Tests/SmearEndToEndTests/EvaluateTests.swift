import Foundation
import Testing

/// `smear evaluate` end to end on the fixture crops: a model with a parasitized class is scored at its
/// decision threshold (the operating point's, as `analyze` calls cells), which `--threshold` moves.
@Suite("smear evaluate")
struct EvaluateTests {
    struct Figures: Decodable {
        struct Class: Decodable { var name: String }
        var images: Int
        var auc: Double?
        var confusion: [[Int]]
        var classes: [Class]
        var threshold: Double?
        /// Crops called parasitized (the column of the parasitized class).
        var calledParasitized: Int {
            let c = classes.firstIndex { $0.name == "Parasitized" }!
            return confusion.reduce(0) { $0 + $1[c] }
        }
    }

    func figures(_ options: [String]) throws -> Figures {
        let run = smear(["evaluate", "fixtures/cells", "--json"] + options)
        #expect(run.status == 0, "\(run)")
        return try JSONDecoder().decode(Figures.self, from: run.stdout)
    }

    @Test("the bundled model is scored at its operating point's threshold; --threshold moves the calls, not the AUC")
    func threshold() throws {
        let own = try figures([])
        #expect(own.threshold == 0.55 && own.images == 17 && own.confusion.joined().reduce(0, +) == 17)
        let loose = try figures(["--threshold", "0.001"]), strict = try figures(["--threshold", "0.9999"])
        #expect(loose.threshold == 0.001 && strict.threshold == 0.9999)
        #expect(loose.auc == own.auc && strict.auc == own.auc)
        // Label smoothing keeps every output between about 0.02 and 0.98.
        #expect(loose.calledParasitized == 17 && strict.calledParasitized == 0)
        #expect(own.calledParasitized > 0 && own.calledParasitized < 17)

        let text = smear(["evaluate", "fixtures/cells", "--threshold", "0.9999", "--mistakes", "30"])
        #expect(text.status == 0 && text.stdoutText.hasPrefix("17 images, ") && text.stdoutText.contains("parasitized at P ≥ 0.9999"), "\(text)")
        // Every parasitized crop is a mistake at that threshold, listed as predicted Uninfected.
        let mistakes = text.stdoutText.split(separator: "\n").filter { $0.contains(" predicted ") }
        #expect(mistakes.count == 8 && mistakes.allSatisfy { $0.contains("Parasitized predicted Uninfected") }, "\(text)")
    }

    @Test("a threshold outside (0, 1] is a usage error")
    func badThreshold() {
        for value in ["0", "1.5", "nan"] {
            let run = smear(["evaluate", "fixtures/cells", "--threshold", value])
            #expect(run.status == 64 && run.stdout.isEmpty && run.stderrLines.count >= 1, "\(run)")
        }
    }
}
