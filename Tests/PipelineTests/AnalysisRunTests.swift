import Foundation
import Synchronization
import Testing
@testable import Pipeline

/// The library-level run on real fixture fields, seen through a sink that records every event.
@Suite struct AnalysisRunTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ relative: String) -> String { root.appendingPathComponent("fixtures/" + relative).path }
    static let iml = ["PA171690.JPG", "PA171834.JPG"].map { fixture("fields/iml-malaria/images/" + $0) }
    static let bad = fixture("corrupt/truncated.jpg"), text = fixture("not-smears/text.png")

    /// Records events; `fail` decides what to throw for a field (by file name).
    final class Recorder: AnalysisSink, @unchecked Sendable {
        let events = Mutex<[String]>([])
        let fail: @Sendable (String) -> (any Error)?
        init(fail: @escaping @Sendable (String) -> (any Error)? = { _ in nil }) { self.fail = fail }
        func receive(_ event: AnalysisEvent) throws {
            switch event {
            case .progress(let done, let total, let item): events.withLock { $0.append("progress \(done)/\(total) \((item as NSString).lastPathComponent)") }
            case .fieldAnalysed(let a):
                events.withLock { $0.append("field \(a.field.name)") }
                if let error = fail(a.field.name) { throw error }
            case .tileAnalysed(let t): events.withLock { $0.append("tile \(t.tile.index)") }
            case .failed(let f): events.withLock { $0.append("failed \((f.path as NSString).lastPathComponent) \(f.rejected == nil ? "-" : "qc")") }
            case .finished(let r): events.withLock { $0.append("finished \(r.fields.count) \(r.failures.count)") }
            }
        }
        var log: [String] { events.withLock { $0 } }
    }

    @Test func eventsComeInTheDocumentedOrderAndFiguresAddUp() throws {
        let recorder = Recorder()
        let paths = [Self.iml[0], Self.bad, Self.text, Self.iml[1]]
        let result = try AnalysisRun(samples: [.init(name: "", paths: paths, target: nil)], analyzer: FieldAnalyzer(), threads: 1)
            .run([recorder])
        #expect(recorder.log == [
            "progress 1/4 PA171690.JPG", "field PA171690.JPG",
            "progress 2/4 truncated.jpg",
            "progress 3/4 text.png", "field text.png",
            "progress 4/4 PA171834.JPG", "field PA171834.JPG",
            "failed truncated.jpg -", "failed text.png qc",
            "finished 2 2",
        ])
        #expect(result.fields.map(\.path) == [Self.iml[0], Self.iml[1]])
        #expect(result.totals == Tally.sum(result.fields.map(\.tally)))
        #expect(result.totals.counted == result.fields[0].cellsCounted + result.fields[1].cellsCounted)
        #expect(result.failures.map(\.message).allSatisfy { !$0.contains("\n") })
        #expect(result.failures[1].message.hasPrefix("text.png: failed quality control: "))
    }

    @Test func aSampleStopsAtItsTargetAndFailedFieldsDoNotCount() throws {
        let recorder = Recorder()
        let samples: [AnalysisRun.Sample] = [.init(name: "A", paths: [Self.text, Self.iml[0], Self.iml[1]], target: 10),
                                             .init(name: "B", paths: [Self.iml[1]], target: 100_000)]
        let result = try AnalysisRun(samples: samples, analyzer: FieldAnalyzer(), threads: 1).run([recorder])
        // A: the text does not count; the first IML field reaches 10 cells; the second is never analysed.
        #expect(result.samples[0].fields.map(\.path) == [Self.iml[0]] && result.samples[0].fieldsAvailable == 3)
        #expect(result.samples[0].targetReached)
        #expect(!result.samples[1].targetReached && result.samples[1].fields.count == 1)
        #expect(recorder.log.filter { $0.hasPrefix("progress") }.count == 3)
    }

    @Test func aSinkFailsAFieldWithAPipelineErrorAndStopsTheRunWithAnyOther() throws {
        struct DiskFull: Error {}
        let failing = Recorder(fail: { $0 == "PA171690.JPG" ? PipelineError("PA171690.JPG: cannot draw") : nil })
        let result = try AnalysisRun(samples: [.init(name: "", paths: Self.iml, target: nil)], analyzer: FieldAnalyzer(), threads: 2)
            .run([failing])
        #expect(result.fields.map(\.path) == [Self.iml[1]])
        #expect(result.failures.map(\.message) == ["PA171690.JPG: cannot draw"])
        let stopping = Recorder(fail: { _ in DiskFull() })
        #expect(throws: DiskFull.self) {
            try AnalysisRun(samples: [.init(name: "", paths: Self.iml, target: nil)], analyzer: FieldAnalyzer(), threads: 2).run([stopping])
        }
        #expect(!stopping.log.contains { $0.hasPrefix("finished") })
    }
}
