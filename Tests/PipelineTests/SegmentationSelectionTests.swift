import Testing
@testable import Pipeline
import Segmentation

@Suite("Segmentation parameters chosen by grouped cross-validation")
struct SegmentationSelectionTests {
    /// A validated field with these counts.
    static func validation(annotated: Int, detected: Int, matched: Int) -> FieldValidation {
        var v = FieldValidation(image: "f")
        v.annotated = annotated; v.detected = detected; v.matched = matched
        return v
    }

    static func figures(fields: Int, annotated: Int, detected: Int, matched: Int, dense: Bool) -> SegmentationSelection.Figures {
        var f = SegmentationSelection.Figures()
        f.fields = fields; f.annotated = annotated; f.detected = detected; f.matched = matched
        if dense { f.denseAnnotated = annotated; f.denseDetected = detected }
        return f
    }

    @Test func theObjectiveByHand() {
        // Recall 0.9 + 0.8; the first set's ratio 1.2 lies 0.12 above the band, the second's 1.0 inside.
        let a = Self.figures(fields: 1, annotated: 100, detected: 120, matched: 90, dense: true)
        let b = Self.figures(fields: 1, annotated: 100, detected: 100, matched: 80, dense: true)
        #expect(abs(SegmentationSelection.objective(["a": a, "b": b]) - (0.9 + 0.8 - 0.12)) < 1e-12)
        #expect(abs(SegmentationSelection.objective(["a": a], band: 1 ... 1) - (0.9 - 0.2)) < 1e-12)
        // Below the band counts too; a set without dense fields adds its recall only.
        let c = Self.figures(fields: 1, annotated: 50, detected: 40, matched: 40, dense: false)
        let d = Self.figures(fields: 1, annotated: 100, detected: 90, matched: 85, dense: true)
        #expect(abs(SegmentationSelection.objective(["c": c, "d": d]) - (0.8 + 0.85 - 0.05)) < 1e-12)
    }

    /// Twenty groups of three fields in two sets. Setting 1 finds more cells everywhere without
    /// overcounting; setting 2 finds the most but overcounts far outside the band.
    static func selection() -> SegmentationSelection {
        let settings = ["default", "better", "overcounting"].map { SegmentationSelection.Setting(name: $0, parameters: SegmentationParameters()) }
        var fields: [SegmentationSelection.Field] = []
        for g in 0 ..< 20 {
            for i in 0 ..< 3 {
                let n = 60 + 10 * g + i
                fields.append(.init(set: g % 2 == 0 ? "iml" : "chula", group: "G\(g)",
                                    validations: [Self.validation(annotated: n, detected: n, matched: n * 9 / 10),
                                                  Self.validation(annotated: n, detected: n, matched: n * 95 / 100),
                                                  Self.validation(annotated: n, detected: 2 * n, matched: n)]))
            }
        }
        return SegmentationSelection(settings: settings, fields: fields)
    }

    @Test func theBetterSettingWinsEveryFoldAndIsScoredOnFieldsItsChoiceDidNotSee() {
        let s = Self.selection()
        let folds = s.folds(5, seed: 1)
        #expect(folds.count == 20 && Set(folds.values) == [0, 1, 2, 3, 4], "every group in one fold, every fold used")
        let choices = s.select(folds: 5, seed: 1)
        #expect(choices.map(\.fold) == [0, 1, 2, 3, 4])
        #expect(choices.allSatisfy { $0.chosen == 1 })
        for c in choices {
            // The held-out figures are those of the fold's own fields, by hand.
            let held = s.fields.filter { folds[$0.set + "/" + $0.group] == c.fold }
            for set in ["iml", "chula"] {
                let mine = held.filter { $0.set == set }
                #expect(c.chosenFigures[set]?.fields ?? 0 == mine.count)
                #expect(c.chosenFigures[set]?.matched ?? 0 == mine.reduce(0) { $0 + $1.validations[1]!.matched })
                #expect(c.defaultFigures[set]?.matched ?? 0 == mine.reduce(0) { $0 + $1.validations[0]!.matched })
            }
        }
        // With no penalty for overcounting, the overcounting setting would win.
        #expect(s.select(folds: 5, seed: 1, band: 0 ... 10).allSatisfy { $0.chosen == 2 })
    }

    @Test func aFieldThatFailedToSegmentCountsItsAnnotationsAsMissed() {
        var s = Self.selection()
        s.fields[0].validations[1] = nil
        let f = s.figures(setting: 1) { $0.group == "G0" }["iml"]!
        #expect(f.fields == 3 && f.annotated == 60 + 61 + 62 && f.matched == 61 * 95 / 100 + 62 * 95 / 100)
    }

    @Test func tiesGoToTheDefault() {
        let settings = ["default", "same"].map { SegmentationSelection.Setting(name: $0, parameters: SegmentationParameters()) }
        let v = Self.validation(annotated: 80, detected: 80, matched: 76)
        let fields = (0 ..< 10).map { SegmentationSelection.Field(set: "iml", group: "G\($0)", validations: [v, v]) }
        #expect(SegmentationSelection(settings: settings, fields: fields).select(folds: 5, seed: 3).allSatisfy { $0.chosen == 0 })
    }
}
