import Foundation
import ImageCodecs
import Pipeline

/// The web app's data folder (`smear serve --data`): the database, uploaded inputs and every
/// analysis's files, and the folders of images a user may pick a sample from. Every path a request
/// names is relative to it and confined to it: absolute paths and `..` components are refused, and a
/// path whose real location (symbolic links resolved) lies outside is refused too.
public struct DataFolder: Sendable {
    /// The folder, as given.
    public let root: String
    /// Its real path (symbolic links resolved), for the confinement check.
    let realRoot: String

    /// Creates the folder if needed.
    public init(root: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            let posix = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
            throw StoreError(.invalid, posix ?? "cannot create it")
        }
        guard let real = realpath(root, nil) else { throw StoreError(.invalid, String(cString: strerror(errno))) }
        defer { free(real) }
        self.root = root
        realRoot = String(cString: real)
    }

    /// Takes the data folder for this server: an exclusive `flock` on `.smear-serve-lock`, held while
    /// the returned handle lives (the kernel drops it when the process ends, however it ends). A second
    /// server on the same folder is refused: it would take the first one's running analyses for
    /// interrupted ones.
    public func claim() throws -> FileHandle {
        let path = absolute(".smear-serve-lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.invalid, "cannot create \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.conflict, "another smear serve is using this data folder")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// `relative` under the data folder (not checked).
    func absolute(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// The path of `relative` if it names an existing file or folder inside the data folder: not
    /// absolute, no empty, `.` or `..` component, no NUL, and really inside once links are resolved.
    func confined(_ relative: String) -> String? {
        guard !relative.hasPrefix("/"), !relative.contains("\0"), relative.utf8.count < 4096 else { return nil }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard relative.isEmpty || !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return nil }
        let path = relative.isEmpty ? root : absolute(relative)
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        let resolved = String(cString: real)
        guard resolved == realRoot || resolved.hasPrefix(realRoot + "/") else { return nil }
        return path
    }

    /// What `GET /api/folders` returns: a folder's sub-folders and how many images it holds.
    struct Listing: Encodable {
        var path: String
        var folders: [String]
        var images: Int
    }

    /// The sub-folders (except the app's own `samples`, and hidden ones) and image count of a folder
    /// under the data folder.
    func listing(_ relative: String) throws -> Listing {
        guard let path = confined(relative) else { throw StoreError(.notFound, "no folder \(relative) in the data folder") }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var folders: [String] = [], images = 0
        for name in names {
            let child = relative.isEmpty ? name : relative + "/" + name
            if relative.isEmpty && name == "samples" { continue }
            var isFolder: ObjCBool = false
            guard let full = confined(child), FileManager.default.fileExists(atPath: full, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue { folders.append(name) } else if Self.imageExtensions.contains((name as NSString).pathExtension.lowercased()) { images += 1 }
        }
        return Listing(path: relative, folders: folders, images: images)
    }

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff", "btf", "svs", "ndpi", "scn", "bif"]

    /// The images (PNG, JPEG or TIFF by content) directly in a folder under the data folder, in name
    /// order, as paths relative to the data folder; each must itself lie inside (links are followed
    /// only within). Refuses the app's own `samples` folder.
    func images(inFolder relative: String) throws -> [(name: String, path: String, bytes: Int64)] {
        let trimmed = relative.hasSuffix("/") ? String(relative.dropLast()) : relative
        guard trimmed != "samples", !trimmed.hasPrefix("samples/"), let path = confined(trimmed) else {
            throw StoreError(.invalid, "\(relative): not a folder inside the data folder")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw StoreError(.invalid, "\(relative): not a folder inside the data folder")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }
            .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        var found: [(String, String, Int64)] = []
        for name in names where Self.imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
            let child = trimmed.isEmpty ? name : trimmed + "/" + name
            guard let full = confined(child), let handle = FileHandle(forReadingAtPath: full) else { continue }
            let head = (try? handle.read(upToCount: 16)).map { [UInt8]($0) } ?? []
            try? handle.close()
            guard ImageCodecs.detectFormat(head) != nil else { continue }
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: full))?[.size] as? NSNumber)?.int64Value ?? 0
            found.append((name, child, bytes))
        }
        return found
    }

    /// `name` if it is usable as an uploaded file's name: not empty, `.` or `..`, no `/`, NUL or
    /// control character, at most 200 bytes; else nil.
    static func safeFileName(_ name: String) -> String? {
        guard !name.isEmpty, name != ".", name != "..", !name.hasPrefix("."), name.utf8.count <= 200,
              !name.unicodeScalars.contains(where: { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }) else { return nil }
        return name
    }

    /// The content type served for a file, by its extension.
    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "json", "geojson": "application/json"
        case "csv": "text/csv; charset=utf-8"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "svg": "image/svg+xml"
        case "tif", "tiff": "image/tiff"
        default: "application/octet-stream"
        }
    }
}
