#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes with POSIX calls, reporting failures as `ImageError`s that name `file`.
enum FileIO {
    /// Largest file read whole: 1 GiB, more than any field image (a 100-megapixel RGB TIFF
    /// uncompressed is 300 MB), so that a huge or endless input cannot exhaust memory.
    static let maxFileBytes = 1 << 30

    /// The complete contents of the regular file at `path`. Throws `.unreadable` (with the system's
    /// reason, or when the path is not a regular file such as a folder, a device or a pipe) and
    /// `.tooLarge` beyond `maxFileBytes`. Cost: one allocation of the file's size and one pass of
    /// `read` calls.
    static func readAll(path: String, file: String) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ImageError(.unreadable, file: file, "cannot open: \(lastErrorText())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw ImageError(.unreadable, file: file, "cannot read: \(lastErrorText())") }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw ImageError(.unreadable, file: file, "cannot read: Is a directory")
        }
        if (info.st_mode & S_IFMT) != S_IFREG {
            throw ImageError(.unreadable, file: file, "cannot read: not a regular file (a device, pipe or socket)")
        }
        if Int(info.st_size) > maxFileBytes { throw tooLarge(file) }
        // One spare byte so that reaching end-of-file needs no reallocation; grows only if the file
        // is longer than fstat said (a file being appended to, or a pipe).
        var bytes = [UInt8](repeating: 0, count: max(Int(info.st_size), 0) + 1)
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 1 << 16)) }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError(.unreadable, file: file, "cannot read: \(lastErrorText())")
            }
            if n == 0 { break }
            filled += n
            if filled > maxFileBytes { throw tooLarge(file) }
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// Creates or replaces the file at `path` with `bytes`. Throws `.writeFailed`.
    static func writeAll(_ bytes: [UInt8], path: String, file: String) throws(ImageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ImageError(.writeFailed, file: file, "cannot create: \(lastErrorText())") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = lastErrorText()
                close(fd)
                throw ImageError(.writeFailed, file: file, "cannot write: \(reason)")
            }
            offset += n
        }
        if close(fd) != 0 { throw ImageError(.writeFailed, file: file, "cannot write: \(lastErrorText())") }
    }

    /// The last path component (what error messages call the file), or `path` itself if it has none.
    static func displayName(_ path: String) -> String {
        let last = path.split(separator: "/", omittingEmptySubsequences: true).last
        return last.map(String.init) ?? path
    }

    private static func tooLarge(_ file: String) -> ImageError {
        ImageError(.tooLarge, file: file, "file too large (over \(maxFileBytes >> 30) GiB)")
    }

    private static func lastErrorText() -> String { String(cString: strerror(errno)) }
}

/// The folder part of `path`, as `dirname` gives it but empty for a bare name: "a/b/c" → "a/b",
/// "a/b/" → "a", "/a" → "/", "a" → "", "." → "". Foundation's `deletingLastPathComponent` traps on
/// any one-character path ("t", ".", "t/") on Linux, so paths typed by users go through this instead.
/// Cost: one scan of the path.
public func parentPath(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "" }
    if slash == trimmed.startIndex { return "/" }
    var parent = trimmed[..<slash]
    while parent.count > 1, parent.hasSuffix("/") { parent = parent.dropLast() }
    return String(parent)
}
