import Foundation
import Testing

/// `smear train` end to end, on the fixture crops with the tiny preset (a second or two per run).
@Suite("smear train on the fixture crops")
struct TrainTests {
    /// A copy of fixtures/cells whose class folders are renamed (links to the same images).
    func dataset(in folder: URL, classes: [String: String]) throws -> String {
        let fm = FileManager.default
        let root = folder.appendingPathComponent("dataset")
        for (from, to) in classes {
            let target = root.appendingPathComponent(to)
            try fm.createDirectory(at: target, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: Fixture.path("fixtures/cells/\(from)")) {
                try fm.createSymbolicLink(atPath: target.appendingPathComponent(name).path,
                                          withDestinationPath: Fixture.path("fixtures/cells/\(from)/\(name)"))
            }
        }
        return root.path
    }

    func classNames(of model: String) throws -> [String] {
        let run = smear(["classify", "--model", model, "--all", "--json",
                         "fixtures/cells/Parasitized/C59P20thinF_IMG_20150803_111244_cell_165.png"])
        let rows = try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]]
        let probabilities = try #require(rows?.first?["probabilities"] as? [String: Double], "\(run)")
        return probabilities.keys.sorted()
    }

    @Test("--init keeps the model's classes and last layer when the folders name them in another case, and starts a new head otherwise")
    func fineTuneMatchesClassesIgnoringCase() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let base = folder.appendingPathComponent("base.smnet").path
        let first = smear(["train", "fixtures/cells", "--arch", "tiny", "--epochs", "1", "--batch-size", "8",
                           "--validation-fraction", "0", "--out", base])
        #expect(first.status == 0, "\(first)")

        // `smear crops` writes lower-case class folders.
        let lower = try dataset(in: folder.appendingPathComponent("lower"), classes: ["Parasitized": "parasitized", "Uninfected": "uninfected"])
        let tuned = folder.appendingPathComponent("tuned.smnet").path
        let second = smear(["train", lower, "--init", base, "--epochs", "1", "--batch-size", "8",
                            "--validation-fraction", "0", "--out", tuned])
        #expect(second.status == 0, "\(second)")
        #expect(second.stderrLines.contains("initialised from \(base)"), "\(second)")
        #expect(try classNames(of: tuned) == ["Parasitized", "Uninfected"])

        // Other class names: the same number of classes, but a new last layer under the new names.
        let other = try dataset(in: folder.appendingPathComponent("other"), classes: ["Parasitized": "infected", "Uninfected": "normal"])
        let retrained = folder.appendingPathComponent("other.smnet").path
        let third = smear(["train", other, "--init", base, "--epochs", "1", "--batch-size", "8",
                           "--validation-fraction", "0", "--out", retrained])
        #expect(third.status == 0, "\(third)")
        #expect(third.stderrLines.contains("initialised from \(base) (new last layer for 2 classes)"), "\(third)")
        #expect(try classNames(of: retrained) == ["infected", "normal"])
    }

    @Test("--jpeg trains with compressed crops; a quality outside 0-95 is refused with one line")
    func jpegAugmentation() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("m.smnet").path
        let run = smear(["train", "fixtures/cells", "--arch", "tiny", "--epochs", "1", "--batch-size", "8",
                         "--validation-fraction", "0", "--jpeg", "60", "--out", out])
        #expect(run.status == 0, "\(run)")
        #expect(FileManager.default.fileExists(atPath: out))
        for bad in ["96", "-1"] {
            let refused = smear(["train", "fixtures/cells", "--arch", "tiny", "--jpeg=\(bad)", "--out", out])
            #expect(refused.status == 64 && refused.stderrLines.first == "Error: --jpeg must be 0 (never) or a JPEG quality of 1-95", "\(refused)")
        }
    }

    @Test("--resume with another --average than the checkpoint's is refused with one line, and nothing is touched")
    func resumeKeepsTheAverage() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("m.smnet").path, checkpoint = out + ".checkpoint"
        let base = ["train", "fixtures/cells", "--arch", "tiny", "--batch-size", "8", "--validation-fraction", "0", "--out", out]
        for (first, other, message) in [
            ("0", "0.99", "written with --average 0; resume with --average 0"),
            ("0.99", "0", "written with a moving average of the weights; resume with the --average it was trained with, not 0"),
        ] {
            let trained = smear(base + ["--epochs", "1", "--average", first])
            #expect(trained.status == 0, "\(trained)")
            let model = try Data(contentsOf: URL(fileURLWithPath: out)), state = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            let refused = smear(base + ["--epochs", "2", "--average", other, "--resume"])
            #expect(refused.status == 64 && refused.stderrLines.first == "Error: \(checkpoint): \(message)", "\(refused)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == model && Data(contentsOf: URL(fileURLWithPath: checkpoint)) == state)
            let resumed = smear(base + ["--epochs", "2", "--average", first, "--resume"])
            #expect(resumed.status == 0 && resumed.stderr.contains("epoch 2/2"), "\(resumed)")
        }
    }

    @Test("a run that diverges stops with one line instead of saving non-finite weights")
    func divergenceIsAnError() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("m.smnet").path
        let run = smear(["train", "fixtures/cells", "--arch", "tiny", "--epochs", "3", "--batch-size", "8",
                         "--validation-fraction", "0", "--learning-rate", "1e30", "--out", out])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.last?.hasPrefix("Error: training diverged in epoch ") == true, "\(run)")
        // Whatever was saved before is a model smear loads, or refuses with one line; never non-finite.
        if FileManager.default.fileExists(atPath: out) {
            let check = smear(["classify", "--model", out, "fixtures/cells/Parasitized/C59P20thinF_IMG_20150803_111244_cell_165.png"])
            #expect(check.status == 0 || (check.stderrLines.count == 1 && check.stderrLines[0].hasPrefix("Error: \(out): ")), "\(check)")
            #expect(!check.stdoutText.contains("nan"))
        }
    }

    @Test("--context is recorded in the model file, and is refused outside 0-0.5")
    func contextIsRecorded() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("m.smnet").path
        let run = smear(["train", "fixtures/cells", "--arch", "tiny", "--epochs", "1", "--batch-size", "8", "--validation-fraction", "0",
                         "--context", "0.125", "--out", out])
        #expect(run.status == 0, "\(run)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"context\":0.125"))
        let bad = smear(["train", "fixtures/cells", "--arch", "tiny", "--context", "0.75", "--out", out])
        #expect(bad.status != 0 && bad.stderrLines.first == "Error: --context must be between 0 and 0.5", "\(bad)")
    }
}
