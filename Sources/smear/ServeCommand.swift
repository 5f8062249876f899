import ArgumentParser
import Classifier
import Foundation
import Pipeline
import WebApp

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the web app: analyse samples, review the calls and sign them off in a browser.",
        discussion: """
        Starts a local web server and prints its address (open it in a browser on this machine). In the \
        app you start an analysis (drop field images or a slide file, or pick a folder under the data \
        folder), watch it run, confirm or reject each parasitized call and the doubtful uninfected ones \
        (keys Y / N, arrows), see the reviewed parasitemia beside the automatic one, sign the sample \
        off and export the reviewed files (cells.csv, report.json, cells.geojson, report.html). Earlier \
        samples are listed and searchable, with the audit trail of every decision.

        Everything is kept in the data folder: smear.sqlite (the database) and samples/ (uploads, \
        overlays, cell pictures, each analysis's smear analyze output). Analyses run one at a time \
        (--workers) in the background: closing the browser does not stop them. If the server is \
        stopped, analyses cut short are shown as interrupted and can be resumed.

        By default only this machine can connect (127.0.0.1). With --host 0.0.0.0 (or another \
        address) the server prints an access token once; other machines open the printed address \
        with ?token=… to get in.
        Example: smear serve --data /srv/smear-data
        """)

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: ArgumentHelp("Data folder: database, uploads and results (created if missing).", valueName: "dir"))
    var data = "smear-data"

    @Option(help: "Address to listen on; anything but loopback requires the printed access token.")
    var host = "127.0.0.1"

    @Option(help: "Analyses run at once (each uses every thread).")
    var workers = 1

    @Option(help: "Threads per analysis.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Largest uploaded file, in MB.")
    var maxUploadMb = 4096

    @Option(help: ArgumentHelp("Classifier model (.smnet); default: the bundled model.", valueName: "file"))
    var model: String?

    @Option(help: ClassifierOptions.thresholdHelp)
    var threshold: Double?

    @Option(help: ClassifierOptions.symmetriesHelp)
    var symmetries: Int?

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if workers < 1 || workers > 16 { throw ValidationError("--workers must be between 1 and 16") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if maxUploadMb < 1 { throw ValidationError("--max-upload-mb must be at least 1") }
        try ClassifierOptions.check(threshold: threshold)
        try ClassifierOptions.check(symmetries: symmetries)
    }

    func run() throws {
        let classifier = try ClassifierOptions.load(model, symmetries: symmetries)
        let modelName = ClassifierOptions.modelName(model)
        let folder: DataFolder
        let store: Store
        let claim: FileHandle
        do {
            folder = try DataFolder(root: data)
            claim = try folder.claim()
        } catch { throw PipelineError("\(data): cannot open the data folder: \(error)") }
        defer { try? claim.close() }
        let database = (data as NSString).appendingPathComponent("smear.sqlite")
        do { store = try Store(path: database) } catch { throw PipelineError("\(database): cannot open the database: \(error)") }
        let queue = AnalysisQueue(store: store, dataRoot: data, classifier: classifier, modelName: modelName,
                                  threshold: classifier.threshold(threshold), workers: workers, threads: threads)
        try queue.start()
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        var server = WebServer(store: store, queue: queue, data: folder, accessToken: loopback ? nil : randomToken())
        server.limits.fileBytes = Int64(maxUploadMb) << 20
        Interruption.consequence = "analyses cut short show as interrupted and can be resumed"
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let token = server.accessToken
        let app = server.application(host: host, port: port) { port in
            var line = "smear serve: http://\(shownHost):\(port)/"
            if let token { line += "?token=\(token)\n(access token, shown once: \(token))" }
            FileHandle.standardOutput.write(Data((line + "\ndata in \(data); stop with Ctrl-C\n").utf8))
        }
        let finished = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do { try await app.run() } catch { failure.error = error }
            finished.signal()
        }
        finished.wait()
        if let error = failure.error {
            let text = "\(error)"
            throw PipelineError("cannot serve on \(host):\(port): "
                + (text.contains("Address already in use") ? "the port is in use (another server?); choose another with --port" : text))
        }
    }
}

/// An error handed from the server's task to the command's thread.
final class ErrorBox: @unchecked Sendable {
    var error: (any Error)?
}
