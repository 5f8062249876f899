import Foundation
import XCTest

/// `smear serve --port 0 --data DIR` as a child process: its address from the first line of standard
/// output, the CSRF token from its first page, and its JSON API. `stop()` sends SIGTERM (also on deinit).
final class SmearServerProcess {
    let process = Process()
    let stdout: URL
    let stderr: URL
    private(set) var base: URL!
    private(set) var csrf = ""

    /// `arguments` are added to `serve --port 0 --data DATA` (e.g. `--threads 1`).
    init(data: URL, logs: URL, timings: URL?, arguments: [String] = []) throws {
        let fm = FileManager.default
        stdout = logs.appendingPathComponent("serve.stdout")
        stderr = logs.appendingPathComponent("serve.stderr")
        _ = fm.createFile(atPath: stdout.path, contents: nil)
        _ = fm.createFile(atPath: stderr.path, contents: nil)
        let out = try FileHandle(forWritingTo: stdout), err = try FileHandle(forWritingTo: stderr)
        defer { try? out.close(); try? err.close() }
        process.executableURL = URL(fileURLWithPath: smearBinary ?? "smear")
        process.arguments = ["serve", "--port", "0", "--data", data.path] + arguments
        process.currentDirectoryURL = packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["SMEAR_SERVE_TIMINGS"] = timings?.path
        process.environment = environment
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let (process, stdout, stderr) = (self.process, self.stdout, self.stderr)
        let line = try waitFor("smear serve to print its address", timeout: 30, interval: 0.05) { () -> String? in
            let text = String(decoding: (try? Data(contentsOf: stdout)) ?? Data(), as: UTF8.self)
            if let line = text.components(separatedBy: "\n").first(where: { $0.hasPrefix("smear serve: http://") }) { return line }
            guard process.isRunning else {
                throw GiveUp(description: "smear serve exited with \(process.terminationStatus): \(ChromeDriverProcess.tail(stderr))")
            }
            return nil
        }
        base = try XCTUnwrap(URL(string: String(line.dropFirst("smear serve: ".count))), "address in \(line)")
        let page = try HTTP.get(url("/"))
        guard page.status == 200, let range = page.text.range(of: #"<meta name="csrf-token" content="[^"]+""#, options: .regularExpression) else {
            throw HTTPFailure(description: "GET / → \(page.status): no csrf-token meta in \(page.text.prefix(300))")
        }
        csrf = String(page.text[range].dropFirst(#"<meta name="csrf-token" content=""#.count).dropLast())
    }

    func url(_ path: String) -> URL { URL(string: path, relativeTo: base)!.absoluteURL }

    /// A request with the CSRF token; `object` is sent as JSON, else `body` as it is.
    func api(_ method: String, _ path: String, _ object: Any? = nil, body: Data? = nil) throws -> HTTPReply {
        var headers = ["X-CSRF-Token": csrf]
        var data = body
        if let object {
            data = try JSONSerialization.data(withJSONObject: object)
            headers["Content-Type"] = "application/json"
        } else if body != nil {
            headers["Content-Type"] = "application/octet-stream"
        }
        return try HTTP.request(method, url(path), body: data, headers: headers)
    }

    /// GET of a JSON object (fails on another status).
    func json(_ path: String) throws -> [String: Any] {
        let reply = try HTTP.get(url(path))
        guard reply.status == 200, let object = reply.json as? [String: Any] else {
            throw HTTPFailure(description: "GET \(path) → \(reply.status): \(reply.text.prefix(300))")
        }
        return object
    }

    func jsonArray(_ path: String) throws -> [Any] {
        let reply = try HTTP.get(url(path))
        guard reply.status == 200, let array = reply.json as? [Any] else {
            throw HTTPFailure(description: "GET \(path) → \(reply.status): \(reply.text.prefix(300))")
        }
        return array
    }

    /// Ends the server at once, as a power cut or `kill -9` would: no clean-up runs.
    func killNow() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}
