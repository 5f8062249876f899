import Foundation
import Testing
@testable import Pipeline

/// Inputs on which the libFuzzer target `FuzzAnnotations` (Fuzz/, FUZZING.md) crashed, kept in
/// `fixtures/fuzz-regressions/annotations/`, and the behaviour each crash showed to be wrong.
@Suite struct FuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/fuzz-regressions/annotations")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: regressions.appendingPathComponent(name), encoding: .utf8)
    }

    /// `crlf-in-quoted-field.csv`: a quoted image name holding CR LF, which Swift sees as one `Character`
    /// equal to neither "\r" nor "\n", so `CSVTable.line` wrote it unquoted and the row fell in two.
    @Test func everyRowOfTheCRLFFileSurvivesARoundTrip() throws {
        let rows = CSVTable.parse(try Self.text("crlf-in-quoted-field.csv")).filter { $0 != [""] }
        #expect(rows.count == 4)
        for row in rows {
            #expect(CSVTable.parse(CSVTable.line(row)) == [row])
        }
    }

    /// The same flaw with other grapheme clusters: a comma or a quote followed by a combining mark.
    @Test func fieldsAreQuotedByScalarsNotCharacters() {
        #expect(CSVTable.line(["a\r\nb.jpg", "x"]) == "\"a\r\nb.jpg\",x")
        #expect(CSVTable.line([",\u{301}"]) == "\",\u{301}\"")
        #expect(CSVTable.line(["\"\u{301}"]) == "\"\"\"\u{301}\"")
        for field in ["a\r\nb.jpg", ",\u{301}", "\"\u{301}", "x\"\r\n\"y"] {
            #expect(CSVTable.parse(CSVTable.line([field, "z"])) == [[field, "z"]])
        }
    }

    /// The file also reads as annotations: columns in another order, a blank line, a point, and the
    /// image name with CR LF kept whole.
    @Test func theCRLFFileParsesAsAnnotations() throws {
        let byImage = try Annotation.parse(try Self.text("crlf-in-quoted-field.csv"), name: "cells.csv")
        #expect(byImage.keys.sorted() == ["a\r\nb.tif", "field, one.jpg", "say \"hi\".png"])
        #expect(byImage["field, one.jpg"] == [Annotation(image: "field, one.jpg", x: 12.25, y: 10.5, width: 42, height: 40,
                                                         kind: .parasitized, sourceLabel: "")])
        #expect(byImage["say \"hi\".png"]?.first?.isBox == false)
        #expect(byImage["a\r\nb.tif"]?.first?.y == 10)
    }

    @Test func parseErrorsNameTheFileAndLine() {
        #expect(throws: PipelineError.self) { try Annotation.parse("a,b\n1,2\n", name: "x.csv") }
        do {
            _ = try Annotation.parse("image,x,y,width,height,class\nf.jpg,1,2,,,unknown\nf.jpg,one,2,,,unknown\n", name: "x.csv")
            Issue.record("a non-numeric x was accepted")
        } catch {
            #expect("\(error)" == "x.csv: line 3 is malformed")
        }
    }
}
