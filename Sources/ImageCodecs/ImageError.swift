/// Why an image could not be read or written. `description` is one line that names the file.
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case unreadable      // the file could not be opened or read
        case empty           // zero bytes
        case unknownFormat   // the bytes are not PNG, JPEG or TIFF
        case truncated       // the data ends before the image does
        case corrupt         // the data is damaged or inconsistent
        case unsupported     // a valid file using a feature this reader does not handle
        case zeroSized       // width or height is 0
        case tooLarge        // the dimensions exceed the memory limit
        case writeFailed     // the image could not be encoded or written
    }
    public let kind: Kind
    /// The file name (or "<memory>" when decoding a buffer without a name).
    public let file: String
    public let detail: String

    public init(_ kind: Kind, file: String, _ detail: String) {
        self.kind = kind
        self.file = file
        self.detail = detail
    }

    public var description: String { "\(file): \(detail)" }
}

extension String {
    /// The text with line breaks and runs of whitespace collapsed to single spaces, for quoting a C
    /// library's message inside a one-line `ImageError.detail`.
    var oneLine: String {
        split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
