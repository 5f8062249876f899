import Foundation
import Testing

/// A slide run stopped while its overlay is being built leaves nothing of it: the output folder keeps
/// the previous run's results, and neither the overlay TIFF, its scratch files nor its viewer tiles stay.
@Suite("smear analyze on a slide: interrupted while the overlay is built")
struct SlideOverlaySafetyTests {
    @Test func sigintLeavesNoOverlay() throws {
        let folder = makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let slide = folder.appendingPathComponent("slide/smear-test.tiff").path
        #expect(try SlideTests.runBench(["make-slide", Fixture.images("iml-malaria"), "--width", "3840", "--height", "1920", "--out", slide]) == 0)
        let out = folder.appendingPathComponent("out")
        let previous = smear(["analyze", Fixture.path(Fixture.images("iml-malaria")), "--out", out.path, "--no-classify"])
        #expect(previous.status == 0, "\(previous)")
        let before = contents(out)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(smearBinary))
        process.arguments = ["analyze", slide, "--out", out.path, "--no-classify", "--threads", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the first viewer tiles are staged: the overlay is under way.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !folderListing(out).contains(where: { $0.hasPrefix(".smear-staging-") && $0.contains("/viewer/0/") }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        // The results are the previous run's; beside them, only the tiles analysed so far, kept for --resume.
        #expect(contents(out).filter { !$0.key.hasPrefix(".smear-resume/") } == before)
        #expect(folderListing(out).allSatisfy { !$0.hasPrefix(".smear-staging-") && !$0.hasPrefix("slides") && !$0.hasSuffix(".tiff") })
    }
}
