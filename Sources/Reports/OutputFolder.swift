import Foundation

/// An output folder that never holds half-written files: everything is written into a hidden staging
/// folder beside the final files, then moved into place by `commit()` (one rename per file, the last
/// step of a run). A run that dies leaves only the hidden staging folder, which the next run removes.
public struct OutputFolder: Sendable {
    public let path: String
    let staging: String

    /// Creates `path` (and parents) if needed, and a fresh staging folder inside it.
    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw OutputError("\(path): exists and is not a folder")
        }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: path) where name.hasPrefix(".smear-staging-") {
                try? fm.removeItem(atPath: (path as NSString).appendingPathComponent(name))
            }
            staging = (path as NSString).appendingPathComponent(".smear-staging-\(ProcessInfo.processInfo.processIdentifier)")
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw OutputError("\(path): cannot create the output folder (\(error.localizedDescription))")
        }
    }

    /// Writes `data` to `relativePath` (e.g. "overlays/a.png") in the staging folder.
    public func write(_ data: Data, to relativePath: String) throws {
        let target = (staging as NSString).appendingPathComponent(relativePath)
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: target))
        } catch {
            throw OutputError("\((path as NSString).appendingPathComponent(relativePath)): cannot write (\(error.localizedDescription))")
        }
    }

    /// Moves every staged file to its final place (replacing older ones), then removes the staging folder.
    public func commit() throws {
        let fm = FileManager.default
        guard let files = fm.enumerator(atPath: staging)?.compactMap({ $0 as? String }) else { return }
        for relative in files.sorted() {
            let source = (staging as NSString).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let target = (path as NSString).appendingPathComponent(relative)
            do {
                try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if rename(source, target) != 0 { throw OutputError(String(cString: strerror(errno))) }
            } catch {
                throw OutputError("\(target): cannot move into place (\(error))")
            }
        }
        try? fm.removeItem(atPath: staging)
    }

    /// Removes the staging folder without touching the final files.
    public func discard() {
        try? FileManager.default.removeItem(atPath: staging)
    }
}

/// A failure to write outputs; one line.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
