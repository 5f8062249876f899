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
    /// Files that the previous run into this folder wrote and this run did not (overlays of other fields)
    /// are removed, so the folder shows one run only; files smear did not write are never touched.
    /// The list of what a run wrote is kept in the hidden file `.smear-files`, one relative path per line.
    public func commit() throws {
        let fm = FileManager.default
        let files = (fm.enumerator(atPath: staging)?.compactMap { $0 as? String } ?? []).filter { relative in
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: (staging as NSString).appendingPathComponent(relative), isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.sorted()
        let previous = previousRunFiles()
        try write(Data(files.map { $0 + "\n" }.joined().utf8), to: Self.manifestName)
        for relative in files { try moveIntoPlace(relative) }
        for stale in previous.subtracting(files) { removeStale(stale) }
        try moveIntoPlace(Self.manifestName)
        try? fm.removeItem(atPath: staging)
    }

    func moveIntoPlace(_ relative: String) throws {
        let target = (path as NSString).appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            if rename((staging as NSString).appendingPathComponent(relative), target) != 0 {
                throw OutputError(String(cString: strerror(errno)))
            }
        } catch {
            throw OutputError("\(target): cannot move into place (\(error))")
        }
    }

    static let manifestName = ".smear-files"

    /// The files listed by the last committed run, without entries that could point outside the folder.
    func previousRunFiles() -> Set<String> {
        guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(Self.manifestName))
        else { return [] }
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { line in
            !line.hasPrefix("/") && !line.hasPrefix(".smear-") && !line.split(separator: "/").contains("..")
        })
    }

    /// Removes one file of the previous run, and its folders up to `path` once they are empty.
    func removeStale(_ relative: String) {
        let fm = FileManager.default
        var target = (path as NSString).appendingPathComponent(relative)
        try? fm.removeItem(atPath: target)
        while true {
            target = (target as NSString).deletingLastPathComponent
            guard target.count > path.count, (try? fm.contentsOfDirectory(atPath: target))?.isEmpty == true else { break }
            try? fm.removeItem(atPath: target)
        }
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
