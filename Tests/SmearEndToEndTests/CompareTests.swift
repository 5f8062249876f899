import Foundation
import Testing

/// `smear compare` end to end on the fixture crops (three patients) with small networks.
@Suite("smear compare on the fixture crops")
struct CompareTests {
    @Test("a preset, a named option list and a spec text on the same folds: page, JSON and predictions")
    func threeCandidates() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("compare").path
        let spec = "input 16x16x3, conv 4 3x3, relu, gap, dense classes"
        let run = smear(["compare", "fixtures/cells", "tiny", "noaug=--arch tiny --no-augment --epochs 1", spec,
                         "--folds", "3", "--epochs", "2", "--batch-size", "4", "--out", out])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText.contains("page: \(out)/compare.html"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/compare.json"))) as? [String: Any])
        let candidates = try #require(json["candidates"] as? [[String: Any]])
        #expect(candidates.map { $0["name"] as? String } == ["tiny", "noaug", spec])
        // The option list overrides the shared --epochs: one training point per fold, against two.
        let curves = candidates.map { ($0["curves"] as? [[Any]])?.map(\.count) }
        #expect(curves == [[2, 2, 2], [1, 1, 1], [2, 2, 2]])
        #expect((candidates[1]["recipe"] as? String)?.hasSuffix("--no-augment") == true)
        #expect((candidates[2]["spec"] as? String) == "input 16x16x3, conv 4 3x3, relu, gap, dense 2")
        // Every candidate predicts every image once, on the same folds.
        var foldsOf: [[String: String]] = []
        for name in ["tiny", "noaug", spec] {
            let rows = try String(contentsOfFile: out + "/predictions-\(name).csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ",").map(String.init) }
            #expect(rows.count == 17 && Set(rows.map { $0[0] }).count == 17)
            foldsOf.append(Dictionary(rows.map { ($0[0], $0[3]) }, uniquingKeysWith: { a, _ in a }))
        }
        #expect(foldsOf[0] == foldsOf[1] && foldsOf[1] == foldsOf[2])
        let page = try String(contentsOfFile: out + "/compare.html", encoding: .utf8)
        #expect(page.contains("grouped 3-fold cross-validation"))
        #expect(page.components(separatedBy: "<svg ").count - 1 == 4 + 2 * 3)
        #expect(!page.contains("http://") || !page.contains("src=\"http"), "no network resources")
    }

    @Test("a candidate that is neither preset, file nor spec, a bad option and two equal names are one clear line each")
    func badCandidates() {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let out = folder.appendingPathComponent("x").path
        for (candidates, message) in [(["tiny", "nonsense"], "candidate 'nonsense' is not a preset"),
                                      (["tiny", "bad=--epochs zero"], "candidate 'bad=--epochs zero'"),
                                      (["tiny", "tiny"], "two candidates are named 'tiny'"),
                                      (["a=--arch 'tiny"], "unclosed quote")] {
            let run = smear(["compare", "fixtures/cells"] + candidates + ["--folds", "3", "--epochs", "1", "--out", out])
            #expect(run.status != 0)
            #expect(run.stderrLines.first?.contains(message) == true, "\(candidates): \(run)")
            #expect(!FileManager.default.fileExists(atPath: out), "nothing written")
        }
    }
}
