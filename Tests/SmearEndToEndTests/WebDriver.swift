import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small W3C WebDriver client (https://www.w3.org/TR/webdriver2/) for the browser tests of
/// `smear serve`, with the blocking HTTP it and the tests use, and the chromedriver process.

// MARK: - HTTP

/// What an HTTP request gave back.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON (nil if it is not).
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
}

struct HTTPFailure: Error, CustomStringConvertible {
    var description: String
}

/// Blocking HTTP over URLSession (the tests are synchronous; the server and chromedriver are other processes).
enum HTTP {
    private final class Box: @unchecked Sendable {
        var reply: HTTPReply?
        var error: (any Error)?
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.timeoutIntervalForRequest = 180
        return URLSession(configuration: configuration)
    }()

    static func request(_ method: String, _ url: URL, body: Data? = nil, headers: [String: String] = [:],
                        timeout: TimeInterval = 120) throws -> HTTPReply {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.error = error
            } else if let http = response as? HTTPURLResponse {
                var fields: [String: String] = [:]
                for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
                box.reply = HTTPReply(status: http.statusCode, headers: fields, body: data ?? Data())
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            task.cancel()
            throw HTTPFailure(description: "\(method) \(url.absoluteString): no answer in \(Int(timeout)) s")
        }
        if let error = box.error { throw HTTPFailure(description: "\(method) \(url.absoluteString): \(error)") }
        guard let reply = box.reply else { throw HTTPFailure(description: "\(method) \(url.absoluteString): no HTTP response") }
        return reply
    }

    static func get(_ url: URL, timeout: TimeInterval = 120) throws -> HTTPReply { try request("GET", url, timeout: timeout) }
}

/// HTTP/1.1 over a plain socket, for chromedriver: it writes header lines without a space after the
/// colon (`Content-Length:250`), which FoundationNetworking before swift-corelibs-foundation#5527
/// (Swift 6.3 included) refuses ("Failed writing header"). One request a connection, `Connection: close`,
/// a `Content-Length` body; loopback only.
enum SocketHTTP {
    static func request(_ method: String, _ url: URL, body: Data? = nil, headers: [String: String] = [:],
                        timeout: TimeInterval = 120) throws -> HTTPReply {
        guard let host = url.host, host == "127.0.0.1" || host == "localhost", let port = url.port else {
            throw HTTPFailure(description: "\(url.absoluteString): SocketHTTP talks to 127.0.0.1:PORT only")
        }
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HTTPFailure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HTTPFailure(description: "\(method) \(url.absoluteString): cannot connect (errno \(errno))") }
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body?.count ?? 0)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Data((head + "\r\n").utf8) + (body ?? Data())
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPFailure(description: "\(method) \(url.absoluteString): send failed (errno \(errno))") }
            sent += n
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var expected: Int?  // header bytes + Content-Length, once the header is in
        while expected.map({ received.count < $0 }) ?? true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HTTPFailure(description: "\(method) \(url.absoluteString): no answer in \(Int(timeout)) s (errno \(errno))") }
            received.append(contentsOf: buffer[0..<n])
            if expected == nil, let end = received.range(of: Data("\r\n\r\n".utf8)) {
                let headerText = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                if let line = headerText.components(separatedBy: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
                   let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                    expected = end.upperBound - received.startIndex + length
                }
            }
        }
        guard let end = received.range(of: Data("\r\n\r\n".utf8)) else {
            throw HTTPFailure(description: "\(method) \(url.absoluteString): malformed answer \(String(decoding: received.prefix(200), as: UTF8.self))")
        }
        let lines = String(decoding: received[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPFailure(description: "bad status line \(lines[0])") }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPReply(status: status, headers: fields, body: Data(received[end.upperBound...]))
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it: bind port 0, read it, close).
func freeLocalPort() -> Int? {
    #if os(Linux)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { return nil }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Thrown by a `waitFor` condition to stop waiting at once (other errors are retried until the timeout).
struct GiveUp: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every `interval` seconds until it gives a value or `timeout` seconds pass
/// (then throws, with `what` and the last error the condition threw, if any); a `GiveUp` ends it at once.
@discardableResult
func waitFor<T>(_ what: String, timeout: TimeInterval, interval: TimeInterval = 0.1, _ condition: () throws -> T?) throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    var lastError: (any Error)?
    while true {
        do {
            if let value = try condition() { return value }
            lastError = nil
        } catch let error as GiveUp {
            throw GiveUp(description: "while waiting for \(what): \(error.description)")
        } catch {
            lastError = error
        }
        if Date() > deadline {
            throw HTTPFailure(description: "timed out after \(Int(timeout)) s waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
        }
        Thread.sleep(forTimeInterval: interval)
    }
}

// MARK: - chromedriver

/// A chromedriver process on a free port of 127.0.0.1; `stop()` ends it (also on deinit).
final class ChromeDriverProcess {
    let process = Process()
    let port: Int
    let log: URL
    var base: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init(executable: String = "/usr/bin/chromedriver", log: URL) throws {
        guard let port = freeLocalPort() else { throw HTTPFailure(description: "no free port for chromedriver") }
        self.port = port
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        let base = self.base
        _ = try waitFor("chromedriver to be ready on port \(port)", timeout: 30) { () -> Bool? in
            guard process.isRunning else { throw GiveUp(description: "chromedriver exited: \(Self.tail(log))") }
            let reply = try? SocketHTTP.request("GET", base.appendingPathComponent("status"), timeout: 5)
            return ((reply?.json as? [String: Any])?["value"] as? [String: Any])?["ready"] as? Bool == true ? true : nil
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }

    static func tail(_ url: URL) -> String {
        String(String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self).suffix(2000))
    }
}

// MARK: - WebDriver

/// An error the WebDriver endpoint answered with (`value.error`, `value.message`), or a malformed answer.
struct WebDriverError: Error, CustomStringConvertible {
    var error: String
    var message: String
    var description: String { "WebDriver \(error): \(message.prefix(500))" }
}

/// One WebDriver session of a running chromedriver.
final class WebDriver {
    /// A web element reference.
    struct Element: Sendable, CustomStringConvertible {
        static let key = "element-6066-11e4-a52e-4f735466cecf"
        let id: String
        var description: String { "element \(id)" }
        var json: [String: String] { [Self.key: id] }
    }

    /// Keys as WebDriver codes them (the Unicode private-use points of the spec's key table).
    enum Key {
        static let enter = "\u{E007}"
        static let escape = "\u{E00C}"
        static let arrowLeft = "\u{E012}"
        static let arrowUp = "\u{E013}"
        static let arrowRight = "\u{E014}"
        static let arrowDown = "\u{E015}"
    }

    let base: URL
    private(set) var sessionId: String?

    init(base: URL) { self.base = base }

    /// Sends one command; returns its `value` (throws the endpoint's error).
    @discardableResult
    func command(_ method: String, _ path: String, _ body: Any? = nil, timeout: TimeInterval = 150) throws -> Any {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? (method == "POST" ? Data("{}".utf8) : nil)
        let reply = try SocketHTTP.request(method, URL(string: base.absoluteString + path)!, body: data,
                                     headers: ["Content-Type": "application/json; charset=utf-8"], timeout: timeout)
        guard let object = reply.json as? [String: Any] else {
            throw WebDriverError(error: "bad reply", message: "\(method) \(path) → HTTP \(reply.status): \(reply.text.prefix(300))")
        }
        let value = object["value"] ?? NSNull()
        if reply.status >= 400 || ((value as? [String: Any])?["error"] as? String) != nil {
            let v = value as? [String: Any]
            throw WebDriverError(error: v?["error"] as? String ?? "HTTP \(reply.status)", message: "\(method) \(path): " + (v?["message"] as? String ?? reply.text))
        }
        return value
    }

    private func session(_ path: String) throws -> String {
        guard let sessionId else { throw WebDriverError(error: "no session", message: "newSession() first") }
        return "/session/\(sessionId)\(path)"
    }

    private func element(_ value: Any) throws -> Element {
        guard let id = (value as? [String: Any])?[Element.key] as? String else {
            throw WebDriverError(error: "bad reply", message: "not an element: \(value)")
        }
        return Element(id: id)
    }

    // Sessions

    /// A headless Chromium session (`binary`, `args` as goog:chromeOptions).
    func newSession(binary: String = "/usr/bin/chromium",
                    args: [String] = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"]) throws {
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": binary, "args": args],
            "timeouts": ["implicit": 0, "pageLoad": 120_000, "script": 60_000],
        ]]]
        let value = try command("POST", "/session", capabilities, timeout: 120)
        guard let id = (value as? [String: Any])?["sessionId"] as? String else {
            throw WebDriverError(error: "bad reply", message: "no sessionId in \(value)")
        }
        sessionId = id
    }

    /// Ends the session (closing the browser); does nothing without one, never throws.
    func deleteSession() {
        guard let path = try? session("") else { return }
        _ = try? command("DELETE", path, timeout: 30)
        sessionId = nil
    }

    // Navigation

    func navigate(_ url: URL) throws { try command("POST", try session("/url"), ["url": url.absoluteString]) }

    func currentURL() throws -> String { try command("GET", try session("/url")) as? String ?? "" }

    // Elements

    /// The first element matching the CSS selector (in `parent` if given); throws "no such element".
    func findElement(_ css: String, in parent: Element? = nil) throws -> Element {
        let path = parent.map { "/element/\($0.id)/element" } ?? "/element"
        return try element(try command("POST", try session(path), ["using": "css selector", "value": css]))
    }

    /// Every element matching the CSS selector (in `parent` if given), in document order.
    func findElements(_ css: String, in parent: Element? = nil) throws -> [Element] {
        let path = parent.map { "/element/\($0.id)/elements" } ?? "/elements"
        let value = try command("POST", try session(path), ["using": "css selector", "value": css])
        return try (value as? [Any] ?? []).map(element)
    }

    func click(_ e: Element) throws { try command("POST", try session("/element/\(e.id)/click")) }

    func clear(_ e: Element) throws { try command("POST", try session("/element/\(e.id)/clear")) }

    /// Types `text` into the element (for a file input: absolute paths, one a line).
    func sendKeys(_ e: Element, _ text: String) throws {
        try command("POST", try session("/element/\(e.id)/value"), ["text": text])
    }

    /// Presses and releases each key in turn, on whatever has the focus (the page's keyboard handlers
    /// see them as a user's keys).
    func pressKeys(_ keys: [String]) throws {
        let actions: [[String: Any]] = keys.flatMap { key -> [[String: Any]] in
            [["type": "keyDown", "value": key], ["type": "keyUp", "value": key]]
        }
        try command("POST", try session("/actions"), ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    func pressKey(_ key: String) throws { try pressKeys([key]) }

    func activeElement() throws -> Element { try element(try command("GET", try session("/element/active"))) }

    /// The element's attribute as written in the page (nil if absent).
    func attribute(_ e: Element, _ name: String) throws -> String? {
        try command("GET", try session("/element/\(e.id)/attribute/\(name)")) as? String
    }

    /// The element's DOM property (such as `href`, resolved to an absolute URL), as JSON.
    func property(_ e: Element, _ name: String) throws -> Any? {
        let value = try command("GET", try session("/element/\(e.id)/property/\(name)"))
        return value is NSNull ? nil : value
    }

    /// The element's rendered text.
    func text(_ e: Element) throws -> String { try command("GET", try session("/element/\(e.id)/text")) as? String ?? "" }

    func isDisplayed(_ e: Element) throws -> Bool { try command("GET", try session("/element/\(e.id)/displayed")) as? Bool ?? false }

    /// Runs `script` as a function body in the page (`arguments[0]`… are `args`); returns its result as JSON.
    @discardableResult
    func executeScript(_ script: String, _ args: [Any] = []) throws -> Any? {
        let value = try command("POST", try session("/execute/sync"), ["script": script, "args": args])
        return value is NSNull ? nil : value
    }

    /// Makes the page's clock run in the time zone `id` (an IANA name), through Chromium's DevTools
    /// (`Emulation.setTimezoneOverride`); it holds for the session's tab until changed.
    func setTimeZone(_ id: String) throws {
        try command("POST", try session("/goog/cdp/execute"), ["cmd": "Emulation.setTimezoneOverride", "params": ["timezoneId": id]])
    }

    /// A PNG of the viewport.
    func screenshot() throws -> Data {
        guard let base64 = try command("GET", try session("/screenshot")) as? String, let data = Data(base64Encoded: base64) else {
            throw WebDriverError(error: "bad reply", message: "the screenshot is not base64")
        }
        return data
    }
}
