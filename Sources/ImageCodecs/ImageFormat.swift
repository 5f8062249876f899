/// A file format this module can decode, identified by its leading bytes ("magic number").
public enum ImageFormat: String, Sendable {
    case png, jpeg, tiff
}

extension ImageCodecs {
    /// The format announced by the first bytes of `bytes`, or `nil` if they match none of PNG
    /// (`89 50 4E 47 0D 0A 1A 0A`), JPEG (`FF D8 FF`) or TIFF (`II*\0`, `MM\0*`, BigTIFF `II+\0`,
    /// `MM\0+`). Looks at no more than 8 bytes and never at a file name. Cost: O(1).
    public static func detectFormat(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        func starts(with magic: [UInt8]) -> Bool {
            bytes.count >= magic.count && zip(bytes, magic).allSatisfy { $0 == $1 }
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || starts(with: [0x49, 0x49, 0x2B, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2B]) {
            return .tiff
        }
        return nil
    }

    /// `detectFormat(_:)` for an array of bytes.
    public static func detectFormat(_ bytes: [UInt8]) -> ImageFormat? {
        bytes.withUnsafeBytes { detectFormat($0) }
    }
}
