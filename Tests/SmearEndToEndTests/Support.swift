import Foundation
import Testing

/// Helpers for running the real `smear` executable, as a user would, and reading what it wrote.

/// The package root: three levels above this file (Tests/SmearEndToEndTests/Support.swift).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `smear` executable built beside this test binary. `swift build --build-tests` and `swift test`
/// build every product into one folder (`.build/<triple>/debug`, or under `--scratch-path`), and the
/// test runner is an executable there too (`<package>PackageTests.xctest` on Linux, a bundle on macOS).
/// `SMEAR_BINARY` overrides the search.
let smearBinary: String? = {
    let fm = FileManager.default
    if let path = ProcessInfo.processInfo.environment["SMEAR_BINARY"] { return path }
    var folders: [URL] = []
    if let exe = Bundle.main.executableURL { folders.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
    folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        folders.append(bundle.bundleURL.deletingLastPathComponent())
    }
    folders.append(packageRoot.appendingPathComponent(".build/debug"))
    return folders.map { $0.appendingPathComponent("smear").path }.first { fm.isExecutableFile(atPath: $0) }
}()

/// What one run of `smear` did.
struct Run: Sendable, CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: Data
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error split into lines (without the final empty one).
    var stderrLines: [String] {
        var lines = stderr.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }
    var description: String { "smear \(arguments.joined(separator: " ")) → exit \(status)\nstderr:\n\(stderr)" }
}

/// Runs `smear` with `arguments` in the package root (so fixture paths are relative, as a user types
/// them) with a fixed 80-column help width. Output goes to files, so large output never blocks.
func smear(_ arguments: [String]) -> Run {
    guard let binary = smearBinary else {
        return Run(arguments: arguments, status: -1, stdout: Data(),
                   stderr: "the smear executable was not found beside the test binary: run `swift build --build-tests` first, or set SMEAR_BINARY\n")
    }
    let fm = FileManager.default
    let capture = fm.temporaryDirectory.appendingPathComponent("smear-e2e-io-\(UUID().uuidString)")
    try? fm.createDirectory(at: capture, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: capture) }
    let outURL = capture.appendingPathComponent("stdout"), errURL = capture.appendingPathComponent("stderr")
    _ = fm.createFile(atPath: outURL.path, contents: nil)
    _ = fm.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    var environment = ProcessInfo.processInfo.environment
    environment["COLUMNS"] = "80"
    process.environment = environment
    do {
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    } catch {
        return Run(arguments: arguments, status: -1, stdout: Data(), stderr: "cannot run \(binary): \(error)\n")
    }
    return Run(arguments: arguments, status: process.terminationStatus,
               stdout: (try? Data(contentsOf: outURL)) ?? Data(),
               stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
}

/// A fresh, empty temporary folder; remove it with `removeTemporaryFolder`.
func makeTemporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("smear-e2e-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeTemporaryFolder(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// Every file and folder under `folder` (hidden ones included), relative, sorted; folders end in "/".
func folderListing(_ folder: URL) -> [String] {
    guard let names = FileManager.default.subpaths(atPath: folder.path) else { return [] }
    return names.map { name in
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
        return isDirectory.boolValue ? name + "/" : name
    }.sorted()
}

/// The contents of every file under `folder`, by relative path.
func contents(_ folder: URL) -> [String: Data] {
    var out: [String: Data] = [:]
    for name in folderListing(folder) where !name.hasSuffix("/") {
        out[name] = try? Data(contentsOf: folder.appendingPathComponent(name))
    }
    return out
}

/// A finished `smear analyze` or `smear validate` run with an output folder, read into memory (the
/// folder itself is removed), so several tests can share one run.
struct OutputRun: Sendable {
    var run: Run
    /// The output folder as passed to --out.
    var out: String
    var listing: [String]
    var files: [String: Data]

    init(_ arguments: [String]) {
        let folder = makeTemporaryFolder()
        let out = folder.appendingPathComponent("out").path
        self.out = out
        run = smear(arguments + ["--out", out])
        listing = folderListing(URL(fileURLWithPath: out))
        files = contents(URL(fileURLWithPath: out))
        removeTemporaryFolder(folder)
    }

    func text(_ name: String) -> String { String(decoding: files[name] ?? Data(), as: UTF8.self) }
}

// MARK: - Fixtures

enum Fixture {
    static let fields = "fixtures/fields"
    static let sets = ["iml-malaria", "chula-rbc12", "bccd"]
    static func images(_ set: String) -> String { "\(fields)/\(set)/images" }
    static func truth(_ set: String) -> String { "\(fields)/\(set)/cells.csv" }
    /// The image files of a fixture set, as `smear` lists a folder: in natural name order.
    static func imageNames(_ set: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent(images(set)).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted { $0.localizedStandardCompare($1) == .orderedAscending }
    }
    static func path(_ relative: String) -> String { packageRoot.appendingPathComponent(relative).path }
}

// MARK: - Reading outputs

/// `report.json` of `smear analyze`, as README.md documents it.
struct Report: Decodable {
    struct Tool: Decodable { var name: String; var version: String }
    struct Image: Decodable {
        var file: String
        var width: Int
        var height: Int
        var cellsCounted: Int
        var excluded: [String: Int]
        var cellDiameter: Double
        var cellDiameterEstimated: Bool
        var overlay: String?
        var seconds: Double
    }
    struct Failure: Decodable, Equatable { var file: String; var error: String }
    struct Cell: Decodable {
        var image: String
        var id: Int
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var centroidX: Double
        var centroidY: Double
        var area: Int
        var status: String
        var `class`: String?
        var pParasitized: Double?
    }
    struct Totals: Decodable {
        var images: Int
        var failed: Int
        var cellsCounted: Int
        var parasitized: Int?
        var parasitemiaPercent: Double?
        var adjustedParasitemiaPercent: Double?
        var excluded: [String: Int]
    }
    struct OperatingPoint: Decodable, Equatable { var symmetries: Int; var threshold: Double; var sensitivity: Double; var specificity: Double; var measuredOn: String }
    struct Settings: Decodable { var model: String?; var threshold: Double?; var symmetries: Int?; var operatingPoint: OperatingPoint? }
    var tool: Tool
    var settings: Settings
    var images: [Image]
    var failures: [Failure]
    var cells: [Cell]
    var totals: Totals

    static func decode(_ data: Data?) throws -> Report {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: try #require(data, "report.json is missing"))
    }
}

/// `validation.json` of `smear validate`.
struct ValidationJSON: Decodable {
    struct Row: Decodable {
        var image: String
        var annotated: Int
        var detected: Int
        var matched: Int
        var recall: Double?
        var precision: Double?
        var countRatio: Double?
        var leukocytesAnnotated: Int
        var leukocytesExcluded: Int
        var leukocytesIdentified: Int
        var predictedParasitemiaPercent: Double?
        var annotatedParasitemiaPercent: Double?
        var parasitemiaAbsoluteErrorPercent: Double?
        var truePositives: Int?
        var falseNegatives: Int?
        var trueNegatives: Int?
        var falsePositives: Int?
    }
    struct Overall: Decodable {
        var images: Int
        var annotated: Int
        var detected: Int
        var matched: Int
        var recall: Double?
        var precision: Double?
        var countRatio: Double?
        var denseThreshold: Int
        var denseImages: Int
        var denseCountRatio: Double?
        var leukocytesAnnotated: Int
        var leukocyteExclusionRate: Double?
        var leukocyteIdentificationRate: Double?
        var sensitivity: Double?
        var specificity: Double?
        var truePositives: Int?
        var falseNegatives: Int?
        var trueNegatives: Int?
        var falsePositives: Int?
        var predictedParasitemiaPercent: Double?
        var annotatedParasitemiaPercent: Double?
        var medianAbsoluteParasitemiaErrorPercent: Double?
        var adjustedPredictedParasitemiaPercent: Double?
        var adjustedMedianAbsoluteParasitemiaErrorPercent: Double?
        var imagesWithParasitizedCalls: Int?
    }
    var images: [Row]
    var failures: [Report.Failure]
    var overall: Overall

    static func decode(_ data: Data?) throws -> ValidationJSON {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ValidationJSON.self, from: try #require(data, "validation.json is missing"))
    }
}

/// The keys of a JSON object (and, with `path`, of a nested object or of the first element of an array).
func jsonKeys(_ data: Data?, _ path: String...) throws -> Set<String> {
    var value: Any = try JSONSerialization.jsonObject(with: try #require(data))
    for key in path {
        let object = try #require(value as? [String: Any], "not an object at \(key)")
        value = try #require(object[key], "no key \(key)")
        if let array = value as? [Any] { value = try #require(array.first, "\(key) is empty") }
    }
    return Set(try #require(value as? [String: Any]).keys)
}

/// RFC 4180 CSV: fields separated by commas, optionally quoted with "" for a quote; lines end in \n.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = ""
    var quoted = false, chars = Array(text), i = 0
    while i < chars.count {
        let c = chars[i]
        if quoted {
            if c == "\"" {
                if i + 1 < chars.count && chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
            } else { field.append(c) }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            row.append(field); field = ""
        } else if c == "\n" {
            row.append(field); rows.append(row); row = []; field = ""
        } else if c != "\r" {
            field.append(c)
        }
        i += 1
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

/// `%.3f`, or "-" for nil: how `smear validate` prints ratios.
func fixed(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }

/// The last lines `smear analyze` prints on standard error for a plain batch of fields.
func batchSummary(_ report: Report, fields: Int, out: String) -> [String] {
    var line = "\(report.totals.cellsCounted) red cells counted in \(fields) field\(fields == 1 ? "" : "s")"
    if let k = report.totals.parasitized, let p = report.totals.parasitemiaPercent {
        line += String(format: ", %d parasitized (%.2f%%", k, p)
        if let a = report.totals.adjustedParasitemiaPercent { line += String(format: "; adjusted for the classifier's errors %.2f%%", a) }
        line += ")"
    }
    return [line, "results in \(out)"]
}

/// The files `smear analyze` leaves in its output folder for `report`: report.json, cells.csv,
/// report.html, each field's overlay and a picture of each cell called parasitized (sorted, folders
/// with a trailing slash, as `folderListing` gives them).
func expectedListing(_ report: Report) -> [String] {
    func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
    let overlays = report.images.compactMap(\.overlay)
    let pictures = report.cells.filter { $0.class == "parasitized" }.map { "cells/\(stem($0.image))_cell_\($0.id).png" }
    return ([".smear-files", ".smear-lock", "cells.csv", "report.html", "report.json"] + (overlays.isEmpty ? [] : ["overlays/"]) + overlays
            + (pictures.isEmpty ? [] : ["cells/"]) + pictures).sorted()
}
