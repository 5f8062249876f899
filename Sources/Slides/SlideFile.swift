import ImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open, regular, read-only file: the descriptor that every libtiff handle of a slide reads through
/// with `pread`. Closed when the last reference goes. Thread-safe (`pread` takes its own position).
final class SlideFile: Sendable {
    let fd: Int32
    /// Size in bytes when opened.
    let size: Int
    /// The file named in errors: the last path component.
    let name: String

    /// Opens `path` for reading. Throws `.unreadable` (with the system's reason) if it cannot be opened,
    /// or is not a regular file: a folder, a device, a FIFO or a socket. Opening never blocks, not even
    /// on a FIFO with no writer.
    init(path: String) throws(ImageError) {
        name = Self.displayName(path)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw ImageError(.unreadable, file: name, "cannot open: \(Self.lastErrorText())") }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let reason = Self.lastErrorText()
            close(fd)
            throw ImageError(.unreadable, file: name, "cannot read: \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let what = (info.st_mode & S_IFMT) == S_IFDIR ? "Is a directory" : "not a regular file (a device, pipe or socket)"
            throw ImageError(.unreadable, file: name, "cannot read: \(what)")
        }
        self.fd = fd
        self.size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Up to `count` bytes from `offset` (fewer at the end of the file; empty on a read error).
    func bytes(at offset: Int, count: Int) -> [UInt8] {
        guard offset >= 0, offset < size, count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: min(count, size - offset))
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return Array(buffer.prefix(done))
    }

    /// The last path component (what errors call the file), or `path` itself if it has none.
    static func displayName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    private static func lastErrorText() -> String { String(cString: strerror(errno)) }
}

/// The pixel size of a PNG or JPEG from its header, for telling a field from an image too large to be one.
enum ImageHeader {
    /// Width and height of the PNG (IHDR) or JPEG (first SOFn frame header) in `file`, or `nil` for other
    /// formats or a header that cannot be read. Reads at most a few kilobytes plus one seek per JPEG
    /// segment before the frame header.
    static func dimensions(of file: SlideFile, format: ImageFormat) -> (width: Int, height: Int)? {
        switch format {
        case .png:
            let header = file.bytes(at: 16, count: 8)  // IHDR data after the signature, length and type
            guard header.count == 8 else { return nil }
            return (bigEndian(header, 0, 4), bigEndian(header, 4, 4))
        case .jpeg:
            var offset = 2
            // Each segment: FF, marker, 2-byte length (which counts itself); SOF0–SOF15 except DHT (C4),
            // JPG (C8) and DAC (CC) hold the frame size. Stop at the scan (DA) or after 1,000 segments.
            for _ in 0..<1000 {
                let segment = file.bytes(at: offset, count: 9)
                guard segment.count >= 4, segment[0] == 0xFF else { return nil }
                let marker = segment[1]
                if marker == 0xFF { offset += 1; continue }  // fill byte
                if marker == 0xDA || marker == 0xD9 { return nil }
                if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                    guard segment.count == 9 else { return nil }
                    return (bigEndian(segment, 7, 2), bigEndian(segment, 5, 2))
                }
                offset += 2 + bigEndian(segment, 2, 2)
            }
            return nil
        case .tiff:
            return nil
        }
    }

    private static func bigEndian(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int {
        bytes[start..<(start + count)].reduce(0) { $0 << 8 | Int($1) }
    }
}
