import Classifier
import Foundation
import HTTPTypes
import Hummingbird
import ImageCodecs
import Logging
import NIOCore
import Pipeline
import Reports

/// `smear serve`: the web app's HTTP side, a Hummingbird router over the `Store` and the
/// `AnalysisQueue`. It never runs the command line; it calls the library.
///
/// Routes (JSON unless said; the README's "Web app API" documents the shapes):
/// - pages: `GET /` (new sample, earlier samples), `GET /samples/{id}` (progress, review, sign-off,
///   export, audit), `GET /check` (classify one cell), `GET /assets/{file}`;
/// - `GET /files/**`: a file of an analysis under the data folder (overlays, cell pictures, the
///   `smear analyze` output with its slide viewer);
/// - `GET /api/samples?q=&from=&to=`, `POST /api/samples` {name, targetCells?, folder?},
///   `GET /api/samples/{id}`, `PUT /api/samples/{id}/files/{name}` (the file as the body),
///   `POST /api/samples/{id}/analyses`, `POST /api/analyses/{id}/resume`;
/// - `GET /api/samples/{id}/cells?all=1&offset=&limit=` (review candidates, or every object),
///   `POST /api/cells/{id}/reviews` {decision, reviewer}, `GET /api/samples/{id}/audit`,
///   `POST /api/samples/{id}/signoff` {reviewer}, `GET /api/samples/{id}/export/{file}`;
/// - `GET /api/folders?path=`: sub-folders and images of a folder under the data folder;
/// - `POST /api/classify`: one cell picture as the body; its class, probabilities and Grad-CAM.
///
/// Safety: every state-changing request carries the page's CSRF token in `X-CSRF-Token`, and a
/// cross-site `Origin` is refused (`RequestGuard`); with an access token (listening beyond
/// loopback), every request carries it. Uploads are streamed to disk, capped in size and number, and
/// kept only if their content is PNG, JPEG or TIFF. Paths are confined to the data folder
/// (`DataFolder`).
public struct WebServer: Sendable {
    public struct Limits: Sendable {
        /// The largest uploaded file, in bytes.
        public var fileBytes: Int64 = 4 << 30
        /// The most files in one sample.
        public var filesPerSample = 1000
        /// The largest cell picture sent to `/api/classify`, in bytes.
        public var cellBytes = 16 << 20
        public init() {}
    }

    public let store: Store
    public let queue: AnalysisQueue
    public let data: DataFolder
    /// The CSRF token of this server's pages, random per start.
    public let csrf: String
    /// Required on every request when set (listening beyond loopback).
    public let accessToken: String?
    public var limits = Limits()
    /// Time taken by each review request, for the review-speed figure (milliseconds).
    public let reviewTimes = TimingLog()

    public init(store: Store, queue: AnalysisQueue, data: DataFolder, accessToken: String?) {
        self.store = store
        self.queue = queue
        self.data = data
        self.accessToken = accessToken
        csrf = randomToken()
    }

    /// The router with every route, behind `RequestGuard`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestGuard(csrf: csrf, accessToken: accessToken))
        router.get("/") { _, _ in try page("index.html") }
        router.get("/samples/:id") { _, context in
            _ = try store.sample(try context.parameters.require("id", as: Int64.self))
            return try page("sample.html")
        }
        router.get("/check") { _, _ in try page("check.html") }
        router.get("/assets/:file") { _, context in try asset(context.parameters.require("file")) }
        router.get("/files/**") { _, context in
            try file(context.parameters.getCatchAll().map { $0.removingPercentEncoding ?? String($0) }.joined(separator: "/"))
        }

        let api = router.group("api")
        api.get("samples") { request, _ in
            let q = request.uri.queryParameters
            return try json(try store.samples(search: q["q"].map(String.init), from: try q["from"].map { try Self.bound(String($0), name: "from", upper: false) },
                                              to: try q["to"].map { try Self.bound(String($0), name: "to", upper: true) }))
        }
        api.post("samples") { request, context in try await createSample(request, context) }
        api.get("samples/:id") { _, context in try json(try detail(context.parameters.require("id", as: Int64.self))) }
        api.put("samples/:id/files/:name") { request, context in
            try await upload(request, sample: context.parameters.require("id", as: Int64.self), name: context.parameters.require("name"))
        }
        api.post("samples/:id/analyses") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await decode(AnalysisRequest.self, request, context, empty: AnalysisRequest(targetCells: nil, cellDiameter: nil, threshold: nil))
            let sample = try store.sample(id)
            if let d = body.cellDiameter, !(d >= 4 && d <= 2000) { throw HTTPError(.badRequest, message: "cell_diameter must be between 4 and 2000 pixels") }
            if let t = body.threshold, !(t > 0 && t <= 1) { throw HTTPError(.badRequest, message: "threshold must be in (0, 1]") }
            let settings = AnalysisSettings(targetCells: body.targetCells ?? sample.targetCells, cellDiameter: body.cellDiameter)
            let analysis = try store.queueAnalysis(sample: id, model: queue.modelName, threshold: body.threshold ?? queue.threshold,
                                                   settings: String(decoding: try JSONEncoder().encode(settings), as: UTF8.self))
            queue.wake()
            return try json(["analysis": analysis], status: .accepted)
        }
        api.post("analyses/:id/resume") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            try store.resume(analysis: id)
            queue.wake()
            return try json(["analysis": id], status: .accepted)
        }
        api.get("samples/:id/cells") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            guard let analysis = try store.sample(id).analysisId else { return try json([CellRow]()) }
            let q = request.uri.queryParameters
            if q["all"] == "1" {
                let offset = max(0, q["offset"].flatMap { Int($0) } ?? 0), limit = min(10_000, max(1, q["limit"].flatMap { Int($0) } ?? 1000))
                return try json(Array(try store.allCells(analysis: analysis).dropFirst(offset).prefix(limit)))
            }
            return try json(try store.reviewCells(analysis: analysis))
        }
        api.post("cells/:id/reviews") { request, context in
            let start = DispatchTime.now()
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await decode(ReviewRequest.self, request, context)
            let row = try store.review(cell: id, decision: body.decision, reviewer: body.reviewer)
            let (_, sample, analysis) = try store.cell(id)
            let response = try json(ReviewResponse(review: row, summary: try summary(sample: sample, analysis: analysis)), status: .created)
            reviewTimes.add(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            return response
        }
        api.get("samples/:id/audit") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            _ = try store.sample(id)
            return try json(try store.audit(sample: id))
        }
        api.post("samples/:id/signoff") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await decode(SignOffRequest.self, request, context)
            let sample = try store.sample(id)
            guard let analysis = sample.analysisId else { throw StoreError(.conflict, "the sample has not been analysed") }
            let figures = try summary(sample: id, analysis: analysis)
            let at = try store.signOff(sample: id, reviewer: body.reviewer,
                                       figures: String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
            // The signed-off export, kept beside the analysis.
            try ReviewExport(store: store, data: data, sample: id, queue: queue).write()
            return try json(["reviewer": body.reviewer.trimmingCharacters(in: .whitespacesAndNewlines), "at": at], status: .created)
        }
        api.get("samples/:id/export/:file") { _, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let name = try context.parameters.require("file")
            let export = try ReviewExport(store: store, data: data, sample: id, queue: queue)
            guard let (bytes, type) = try export.file(name) else { throw HTTPError(.notFound, message: "no export file \(name)") }
            var headers = HTTPFields()
            headers[.contentType] = type
            if name != "report.html" { headers[.contentDisposition] = "attachment; filename=\"sample-\(id)-\(name)\"" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        api.get("folders") { request, _ in try json(try data.listing(request.uri.queryParameters["path"].map(String.init) ?? "")) }
        api.post("classify") { request, _ in try await classify(request) }
        return router
    }

    /// The app listening on `host:port`; `onRunning` gets the port it listens on (for port 0).
    public func application(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        var logger = Logger(label: "smear-serve")
        logger.logLevel = .warning
        return Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "smear"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    // MARK: - Requests and responses

    struct CreateSample: Decodable {
        var name: String
        var targetCells: Int?
        /// A folder under the data folder whose images are the sample's.
        var folder: String?
    }

    struct AnalysisRequest: Decodable {
        var targetCells: Int?
        var cellDiameter: Double?
        /// The decision threshold (default: the server's, `--threshold`).
        var threshold: Double?
    }

    struct ReviewRequest: Decodable {
        var decision: String
        var reviewer: String
    }

    struct ReviewResponse: Encodable {
        var review: ReviewRow
        var summary: Review.Summary
    }

    struct SignOffRequest: Decodable {
        var reviewer: String
    }

    /// What `GET /api/samples/{id}` returns.
    struct SampleDetail: Encodable {
        var sample: SampleRow
        var inputs: [InputRow]
        var analysis: AnalysisRow?
        var settings: AnalysisSettings?
        var fields: [FieldRow]
        var failures: [[String: String]]
        var summary: Review.Summary?
        /// The `smear analyze` output of the analysis once complete (its report page), relative to `/files/`.
        var output: String?
        /// Each slide input's key in the output page's viewer links (`report.html#slide=KEY&x=&y=&z=`).
        var slideKeys: [String: String] = [:]
    }

    func detail(_ id: Int64) throws -> SampleDetail {
        let sample = try store.sample(id)
        var detail = SampleDetail(sample: sample, inputs: try store.inputs(sample: id), fields: [], failures: [])
        if let analysisId = sample.analysisId {
            let analysis = try store.analysis(analysisId)
            detail.analysis = analysis
            detail.settings = try? JSONDecoder().decode(AnalysisSettings.self, from: Data(analysis.settings.utf8))
            detail.fields = try store.fields(analysis: analysisId)
            detail.failures = try store.failures(analysis: analysisId).map { ["input": $0.input, "message": $0.message] }
            detail.summary = try summary(sample: id, analysis: analysisId)
            let report = AnalysisQueue.folder(sample: id, analysis: analysisId) + "/output/report.html"
            if FileManager.default.fileExists(atPath: data.absolute(report)) { detail.output = report }
            // The output names each slide's folder after its overlay name among all the run's inputs.
            let paths = AnalysisQueue.samples(name: sample.name, inputs: detail.inputs, target: nil, dataRoot: data.root).flatMap(\.paths)
            let slides = Set(detail.inputs.filter { $0.kind == "slide" }.map { data.absolute($0.path) })
            for (path, overlay) in zip(paths, overlayFileNames(for: paths)) where slides.contains(path) {
                detail.slideKeys[(path as NSString).lastPathComponent] = ((overlay as NSString).lastPathComponent as NSString).deletingPathExtension
            }
        }
        return detail
    }

    /// The automatic and reviewed figures of an analysis.
    func summary(sample: Int64, analysis: Int64) throws -> Review.Summary {
        let row = try store.analysis(analysis)
        let settings = try? JSONDecoder().decode(AnalysisSettings.self, from: Data(row.settings.utf8))
        let perUL = settings?.redCellsPerMicrolitre ?? 5.0e6
        let t = try store.tallies(analysis: analysis)
        return Review.Summary(automatic: .init(t.automatic, redCellsPerMicrolitre: perUL, operatingPoint: queue.operatingPoint(of: row)),
                              reviewed: .init(t.reviewed, redCellsPerMicrolitre: perUL), cellsReviewed: t.reviewedCells, callsChanged: t.changed)
    }

    func createSample(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await decode(CreateSample.self, request, context)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw HTTPError(.badRequest, message: "give the sample a name (at most 200 characters, no control characters)")
        }
        if let t = body.targetCells, !(1...10_000_000).contains(t) { throw HTTPError(.badRequest, message: "target_cells must be between 1 and 10,000,000") }
        var inputs: [(name: String, path: String, bytes: Int64)] = []
        if let folder = body.folder {
            inputs = try data.images(inFolder: folder)
            guard !inputs.isEmpty else { throw HTTPError(.badRequest, message: "\(folder): no PNG, JPEG or TIFF images in it") }
            guard inputs.count <= limits.filesPerSample else { throw HTTPError(.contentTooLarge, message: "at most \(limits.filesPerSample) files a sample") }
        }
        let id = try store.createSample(name: name, targetCells: body.targetCells, folder: body.folder)
        for input in inputs {
            try store.addInput(sample: id, name: input.name, path: input.path, kind: Self.kind(data.absolute(input.path)), bytes: input.bytes)
        }
        return try json(["id": id], status: .created)
    }

    /// Streams an uploaded file into the sample's inputs; refuses it (and keeps nothing) when it is too
    /// large, not an image or slide by content, a duplicate name, or the sample is analysed already.
    func upload(_ request: Request, sample id: Int64, name raw: String) async throws -> Response {
        let sample = try store.sample(id)
        guard sample.analysisId == nil, sample.folder == nil else {
            throw StoreError(.conflict, "files can be added only before the sample's analysis starts")
        }
        guard let name = DataFolder.safeFileName(raw.removingPercentEncoding ?? raw) else {
            throw HTTPError(.badRequest, message: "unusable file name")
        }
        let inputs = try store.inputs(sample: id)
        guard inputs.count < limits.filesPerSample else { throw HTTPError(.contentTooLarge, message: "at most \(limits.filesPerSample) files a sample") }
        guard !inputs.contains(where: { $0.name == name }) else { throw StoreError(.conflict, "\(name) is in the sample already") }
        let relative = "samples/\(id)/inputs/\(name)"
        let target = data.absolute(relative)
        let partial = target + ".part-\(randomToken().prefix(8))"
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw HTTPError(.internalServerError, message: "cannot store the upload")
        }
        var bytes: Int64 = 0
        var head: [UInt8] = []
        do {
            defer { try? handle.close() }
            for try await buffer in request.body {
                bytes += Int64(buffer.readableBytes)
                guard bytes <= limits.fileBytes else {
                    throw HTTPError(.contentTooLarge, message: "\(name) is larger than the limit of \(limits.fileBytes >> 20) MB")
                }
                if head.count < 16 { head += buffer.getBytes(at: buffer.readerIndex, length: min(16 - head.count, buffer.readableBytes)) ?? [] }
                try handle.write(contentsOf: Data(buffer: buffer))
            }
            guard ImageCodecs.detectFormat(head) != nil else {
                throw HTTPError(.unsupportedMediaType, message: "\(name) is not a PNG, JPEG or TIFF image (by its content)")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        guard rename(partial, target) == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw HTTPError(.internalServerError, message: "cannot store \(name)")
        }
        let kind = Self.kind(target)
        do {
            try store.addInput(sample: id, name: name, path: relative, kind: kind, bytes: bytes)
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw StoreError(.conflict, "\(name) is in the sample already")
        }
        return try json(Uploaded(name: name, kind: kind, bytes: bytes), status: .created)
    }

    struct Uploaded: Encodable {
        var name: String
        var kind: String
        var bytes: Int64
    }

    /// "slide" for a file analysed as a slide (`AnalysisRun.Sample.isSlideFile`), else "field".
    static func kind(_ path: String) -> String { AnalysisRun.Sample.isSlideFile(path) ? "slide" : "field" }

    struct Classification: Encodable {
        var predicted: String
        var probability: Float
        var probabilities: [String: Float]
        /// The cell with its Grad-CAM map of the predicted class, as a PNG data URL.
        var heatmap: String
    }

    func classify(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: limits.cellBytes)
        let bytes = Array(buffer: body)
        let crop: RGBImage
        do throws(ImageError) { crop = try ImageCodecs.decode(bytes, name: "cell") } catch {
            throw HTTPError(.unsupportedMediaType, message: "not a readable PNG, JPEG or TIFF image: \(error)")
        }
        guard crop.width <= 1024, crop.height <= 1024 else { throw HTTPError(.contentTooLarge, message: "a cell picture is at most 1024 × 1024 pixels") }
        let classifier = queue.classifier
        let p: [Float]
        do { p = try classifier.checkedProbabilities([crop])[0] } catch { throw HTTPError(.unprocessableContent, message: error.description) }
        let best = p.indices.max { p[$0] < p[$1] }!
        let cam = classifier.gradCAM(crop, classIndex: best)
        let png = try ImageCodecs.encodePNG(cam.overlay(on: crop))
        return try json(Classification(predicted: classifier.classNames[best], probability: p[best],
                                       probabilities: Dictionary(uniqueKeysWithValues: zip(classifier.classNames, p)),
                                       heatmap: "data:image/png;base64," + Data(png).base64EncodedString()))
    }

    // MARK: - Pages and files

    /// A page from the bundled assets, with this server's CSRF token filled in.
    func page(_ name: String) throws -> Response {
        guard let text = Assets.text(name) else { throw HTTPError(.notFound) }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text.replacingOccurrences(of: "{{csrf}}", with: csrf))))
    }

    func asset(_ name: String) throws -> Response {
        guard let bytes = Assets.bytes(name) else { throw HTTPError(.notFound) }
        var headers = HTTPFields()
        headers[.contentType] = DataFolder.contentType(name)
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func file(_ relative: String) throws -> Response {
        guard let path = data.confined(relative), relative.hasPrefix("samples/"), !relative.contains("/inputs/") else {
            throw HTTPError(.notFound)
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw HTTPError(.notFound) }
        var headers = HTTPFields()
        headers[.contentType] = DataFolder.contentType(path)
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: BasicRequestContext, empty: T? = nil) async throws -> T {
        let body = try await request.body.collect(upTo: 64 << 10)
        if body.readableBytes == 0, let empty { return empty }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(T.self, from: Data(buffer: body)) } catch {
            throw HTTPError(.badRequest, message: "the request body is not the JSON expected")
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// A bound of the samples' date filter as the store compares it with `created_at` (ISO 8601 UTC,
    /// `from` inclusive, `to` exclusive). `text` is either an instant with its time zone
    /// (`2026-12-01T00:00:00+07:00`, `…Z`: the page sends the local midnights of the days a user picks),
    /// returned in the stored form, or a `YYYY-MM-DD` day taken in UTC: itself as a lower bound, the day
    /// after as an upper one, so that `to` includes its day. Anything else is a 400 naming `name`.
    static func bound(_ text: String, name: String, upper: Bool) throws -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        f.locale = Locale(identifier: "en_US_POSIX")
        if text.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil, let day = f.date(from: text) {
            return upper ? f.string(from: day.addingTimeInterval(86_400)) : text
        }
        let instant = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = instant.date(from: text) ?? fractional.date(from: text) { return Store.timestamp.string(from: date) }
        throw StoreError(.invalid, "\(name): give a day (YYYY-MM-DD) or a time with its zone (ISO 8601), not '\(text.prefix(40))'")
    }
}

/// Refuses, before any route runs: with an access token, requests without it (given as
/// `Authorization: Bearer`, the `smear_token` cookie, or `?token=` on a page, which sets the cookie);
/// state-changing requests (not GET or HEAD) without this server's CSRF token in `X-CSRF-Token` or
/// from another origin. Turns `StoreError`s into 404 / 409 / 400 with their line, and adds
/// `X-Content-Type-Options: nosniff` to every response.
struct RequestGuard<Context: RequestContext>: RouterMiddleware {
    let csrf: String
    let accessToken: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let accessToken {
            let bearer = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" }
            let given = bearer ?? request.cookies["smear_token"]?.value ?? request.uri.queryParameters["token"].map(String.init)
            guard let given, constantTimeEqual(given, accessToken) else {
                throw HTTPError(.unauthorized, message: "this server needs its access token (printed when it started)")
            }
            if request.uri.queryParameters["token"] != nil, request.method == .get {
                var response = Response.redirect(to: request.uri.path)
                response.setCookie(Cookie(name: "smear_token", value: accessToken, httpOnly: true, sameSite: .strict))
                return response
            }
        }
        if request.method != .get && request.method != .head {
            guard let token = request.headers[HTTPField.Name("X-CSRF-Token")!], constantTimeEqual(token, csrf) else {
                throw HTTPError(.forbidden, message: "missing or wrong CSRF token: reload the page")
            }
            if let origin = request.headers[HTTPField.Name("Origin")!], let host = request.head.authority,
               URL(string: origin)?.host.map({ "\($0)" + (URL(string: origin)?.port.map { ":\($0)" } ?? "") }) != host {
                throw HTTPError(.forbidden, message: "request from another site refused")
            }
        }
        do {
            var response = try await next(request, context)
            response.headers[.xContentTypeOptions] = "nosniff"
            return response
        } catch let error as StoreError {
            switch error.kind {
            case .notFound: throw HTTPError(.notFound, message: error.description)
            case .conflict: throw HTTPError(.conflict, message: error.description)
            case .invalid: throw HTTPError(.badRequest, message: error.description)
            }
        }
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}

/// Whether two strings are equal, in time that depends only on their lengths.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}

/// 32 random bytes as 64 hex digits (the system's random source).
public func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
}

/// Durations recorded by several threads, for percentiles; with `SMEAR_SERVE_TIMINGS=FILE` in the
/// environment, each is also appended to FILE as a line "review_ms VALUE" (for the browser test's
/// review-speed figure).
public final class TimingLog: @unchecked Sendable {
    private var values: [Double] = []
    private let file = ProcessInfo.processInfo.environment["SMEAR_SERVE_TIMINGS"].flatMap { path -> FileHandle? in
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        return FileHandle(forWritingAtPath: path)
    }
    private let lock = NSLock()
    func add(_ value: Double) {
        lock.lock(); defer { lock.unlock() }
        values.append(value)
        if let file {
            _ = try? file.seekToEnd()
            try? file.write(contentsOf: Data(String(format: "review_ms %.3f\n", value).utf8))
        }
    }
    /// The recorded values, in order.
    public var all: [Double] { lock.lock(); defer { lock.unlock() }; return values }
}
