import Foundation

/// The app's pages, style sheet and scripts (`Sources/WebApp/Assets/`), bundled with the program and
/// served as they are: nothing is fetched from another site.
enum Assets {
    /// The asset's bytes, or nil if there is no such asset (names are plain file names).
    static func bytes(_ name: String) -> [UInt8]? {
        guard DataFolder.safeFileName(name) == name,
              let path = Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Assets") else { return nil }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    static func text(_ name: String) -> String? { bytes(name).map { String(decoding: $0, as: UTF8.self) } }
}
