import Foundation
import Testing

/// `smear validate` on a slide: a mosaic of the two annotated IML fixture fields side by side
/// (`smear-bench make-slide`, with its cells.csv and fields.csv), compared with validating the fields.
@Suite("smear validate on a slide")
struct SlideValidateTests {
    @Test("a mosaic of annotated fields: the same annotations count as in the fields, figures per field, matches.csv")
    func mosaic() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let slide = folder.appendingPathComponent("slide/mosaic.tiff").path
        #expect(try SlideTests.runBench(["make-slide", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"),
                                         "--width", "2560", "--height", "960", "--out", slide]) == 0)
        let truth = folder.appendingPathComponent("slide/cells.csv").path
        let placement = folder.appendingPathComponent("slide/fields.csv").path
        let result = OutputRun(["validate", slide, "--truth", truth, "--truth", placement, "--no-classify"])
        #expect(result.run.status == 0, "\(result.run)")
        #expect(result.listing == [".smear-files", ".smear-lock", "slides/", "slides/mosaic/", "slides/mosaic/matches.csv",
                                   "validation.csv", "validation.json"])
        let v = try ValidationJSON.decode(result.files["validation.json"])
        let perField = smear(["validate", Fixture.images("iml-malaria"), "--truth", Fixture.truth("iml-malaria"), "--no-classify", "--json"])
        #expect(perField.status == 0, "\(perField)")
        let fields = try ValidationJSON.decode(perField.stdout)

        // One row per field, named after the slide and the field; the same annotations count as when the
        // fields are validated one by one (those touching a field's edge are left out on the slide too).
        #expect(v.images.map(\.image) == fields.images.map { "mosaic.tiff#\($0.image)" })
        #expect(v.images.map(\.annotated) == fields.images.map(\.annotated))
        let slideRecall = try #require(v.overall.recall), fieldRecall = try #require(fields.overall.recall)
        #expect(abs(slideRecall - fieldRecall) < 0.03, "recall \(slideRecall) on the slide, \(fieldRecall) in the fields")
        let annotations = parseCSV(try String(contentsOfFile: truth, encoding: .utf8)).dropFirst()
        let left = annotations.count - v.overall.annotated - v.overall.leukocytesAnnotated
        #expect(result.run.stdoutText.contains(" tiles counted; \(annotations.count - left) of \(annotations.count) annotations validated, left out: \(left) field edge\n"),
                "\(result.run.stdoutText)")

        // matches.csv: every annotation, then every counted cell, with what became of it.
        let rows = parseCSV(result.text("slides/mosaic/matches.csv"))
        #expect(rows.first == ["object", "id", "x", "y", "width", "height", "class", "p_parasitized", "status", "match", "field"])
        let annotationRows = rows.filter { $0.first == "annotation" }, cellRows = rows.filter { $0.first == "cell" }
        #expect(annotationRows.count == annotations.count)
        #expect(annotationRows.filter { $0[8] == "matched" }.count == v.overall.matched)
        #expect(annotationRows.filter { $0[8] == "missed" }.count == v.overall.annotated - v.overall.matched)
        #expect(annotationRows.filter { $0[8] == "ignored: field edge" }.count == left)
        #expect(cellRows.count == v.overall.detected)
        #expect(cellRows.filter { $0[8] == "matched" }.count == v.overall.matched)
        #expect(cellRows.allSatisfy { $0[6].isEmpty && $0[7].isEmpty })   // no classifier: no calls
        // A matched annotation and its cell name each other.
        let cells = Dictionary(uniqueKeysWithValues: cellRows.map { ($0[1], $0) })
        for a in annotationRows where a[8] == "matched" { #expect(cells[a[9]]?[9] == a[1]) }
    }
}
