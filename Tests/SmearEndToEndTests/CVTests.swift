import Foundation
import Testing

/// `smear cv` end to end on the fixture crops (three patients) with the tiny preset.
@Suite("smear cv on the fixture crops")
struct CVTests {
    @Test("three folds: every image predicted once, out of its group's fold; cv.json and predictions.csv written")
    func threeFolds() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("cv").path
        let run = smear(["cv", "fixtures/cells", "--folds", "3", "--arch", "tiny", "--epochs", "1", "--batch-size", "4",
                         "--keep-models", "--out", out])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText.contains("accuracy: "))
        #expect(run.stdoutText.contains("pooled out-of-fold: 17 images"))
        #expect(run.stdoutText.contains("worst groups:"))
        #expect(run.stdoutText.contains("calibration: expected calibration error"))
        #expect(run.stdoutText.contains("threshold  sensitivity  specificity  called / true positives per source"))
        #expect(run.stdoutText.split(separator: "\n").filter { $0.hasPrefix("     0.") && $0.contains("NIH ") }.count == 6)
        let csv = try String(contentsOfFile: out + "/predictions.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(csv[0] == ["path", "group", "source", "fold", "label", "predicted", "p_Parasitized", "p_Uninfected"])
        let rows = csv.dropFirst()
        #expect(rows.count == 17)
        #expect(Set(rows.map { $0[0] }).count == 17, "each image once")
        // A group is in one fold only, and the three patients fill the three folds.
        let folds = Dictionary(grouping: rows, by: { $0[1] }).mapValues { Set($0.map { $0[3] }) }
        #expect(folds.count == 3 && folds.values.allSatisfy { $0.count == 1 })
        #expect(Set(folds.values.map { $0.first! }) == ["0", "1", "2"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/cv.json"))) as? [String: Any]
        #expect((json?["folds"] as? [Any])?.count == 3)
        #expect((json?["pooled"] as? [String: Any])?["images"] as? Int == 17)
        for k in 1...3 { #expect(FileManager.default.fileExists(atPath: out + "/fold-\(k).smnet")) }
    }

    @Test("more folds than groups is one clear line")
    func tooFewGroups() {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let run = smear(["cv", "fixtures/cells", "--folds", "4", "--arch", "tiny", "--epochs", "1", "--out", folder.appendingPathComponent("x").path])
        #expect(run.status != 0)
        #expect(run.stderrLines.first?.contains("3 groups, too few for 4 folds") == true, "\(run)")
    }
}
