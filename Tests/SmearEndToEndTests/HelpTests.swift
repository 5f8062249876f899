import Foundation
import Testing

@Suite("smear help")
struct HelpTests {
    @Test("smear --help, exactly")
    func topLevel() throws {
        let run = smear(["--help"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText == """
            OVERVIEW: Count red blood cells and malaria parasites in photographs of
            Giemsa-stained thin blood smears.

            USAGE: smear <subcommand>

            OPTIONS:
              -h, --help              Show help information.

            SUBCOMMANDS:
              analyze                 Count red blood cells and malaria parasites in smear
                                      fields.
              validate                Compare cell counts, classes and parasitemia with
                                      expert annotations.
              crops                   Cut labelled training crops from annotated fields.
              train                   Train an image classifier on a folder of labelled
                                      images.
              cv                      Score a training recipe by grouped K-fold
                                      cross-validation.
              compare                 Compare architectures or training recipes by grouped
                                      K-fold cross-validation on the same folds.
              calibrate               Store a model's operating point: its threshold,
                                      test-time symmetries and cross-validated error rates.
              evaluate                Measure a classifier on labelled images, or measure
                                      its speed.
              classify                Classify single-cell images and optionally draw
                                      Grad-CAM heatmaps.
              serve                   Run the web app: analyse samples, review the calls
                                      and sign them off in a browser.

              See 'smear help <subcommand>' for detailed help.

            """)
    }

    /// The options each command's help must list (README.md describes the ones of analyze and validate).
    static let options: [(String, Set<String>, Bool)] = [
        ("analyze", ["--out", "--sample", "--samples-root", "--target-cells", "--red-cells-per-microlitre", "--resume", "--model",
                     "--threshold", "--symmetries", "--no-classify", "--heatmaps", "--crops", "--crop-context", "--cell-diameter", "--json", "--threads",
                     "--no-wait", "--help"], true),
        ("validate", ["--truth", "--out", "--model", "--threshold", "--symmetries", "--no-classify", "--cell-diameter", "--summary",
                      "--json", "--threads", "--no-wait", "--help"], true),
        ("crops", ["--truth", "--out", "--cell-diameter", "--crop-context", "--threads", "--no-wait", "--help"], false),
        ("train", ["--out", "--arch", "--context", "--epochs", "--batch-size", "--seed", "--resume", "--init", "--threads", "--help"], false),
        ("cv", ["--folds", "--out", "--arch", "--epochs", "--worst", "--keep-models", "--threads", "--help"], false),
        ("compare", ["--folds", "--out", "--arch", "--epochs", "--no-augment", "--threads", "--help"], false),
        ("evaluate", ["--model", "--split", "--threshold", "--json", "--mistakes", "--speed", "--threads", "--help"], false),
        ("classify", ["--model", "--heatmaps", "--all", "--json", "--threads", "--help"], false),
        ("serve", ["--port", "--data", "--host", "--workers", "--threads", "--max-upload-mb", "--model", "--threshold", "--symmetries", "--help"], true),
        ("calibrate", ["--cv", "--source", "--symmetries", "--threshold", "--measured-on", "--cells", "--out", "--help"], true),
    ]

    @Test("each command's help lists its options; `smear help CMD` says the same", arguments: options)
    func command(name: String, expected: Set<String>, exact: Bool) throws {
        let run = smear([name, "--help"])
        #expect(run.status == 0, "\(run)")
        let text = run.stdoutText
        #expect(text.hasPrefix("OVERVIEW: "))
        #expect(text.contains("\nUSAGE: smear \(name) "))
        let mentioned = Set(text.split(whereSeparator: { !($0.isLetter || $0 == "-") })
            .filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))
        if exact {
            #expect(mentioned == expected, "update README.md when the options change")
        } else {
            #expect(expected.isSubset(of: mentioned), "missing: \(expected.subtracting(mentioned))")
        }
        #expect(smear(["help", name]).stdout == run.stdout)
    }

    @Test("analyze --help names every output file")
    func analyzeOutputs() throws {
        let text = smear(["analyze", "--help"]).stdoutText
        for word in ["report.json", "cells.csv", "report.html", "overlays/NAME.png", "non-zero", "whole-slide image", "slides/NAME/", "cells.geojson", "overlay.tiff"] { #expect(text.contains(word), "\(word)") }
    }

    @Test("usage errors: exit 64, an error line first")
    func usageErrors() throws {
        for arguments in [["bogus"], ["analyze"], ["analyze", goodField], ["validate", Fixture.images("bccd")]] {
            let run = smear(arguments)
            #expect(run.status == 64, "\(run)")
            #expect(run.stderrLines.first?.hasPrefix("Error: ") == true, "\(run)")
            #expect(run.stdout.isEmpty)
        }
    }
}
