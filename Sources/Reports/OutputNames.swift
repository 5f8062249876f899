// Names of the files smear writes for each input (overlays, per-cell pictures and crops), made from
// the input's file name so a person can find them, yet always valid and inside their folder:
// - one file-name component, never "", "." or "..", never hidden (a leading "." becomes "_", which
//   also keeps clear of the output folder's own `.smear-*` files);
// - no "/" and no control characters (each becomes "_");
// - at most 255 bytes of UTF-8 (NAME_MAX): a longer stem keeps its beginning, whole characters only,
//   and ends in "~" and 16 hex digits of a hash of the whole stem (FNV-1a, the same in every run), so
//   two long names that share their beginning still differ.
// Characters such as "#", "?", "%", spaces and quotes are kept; links to the files percent-encode them
// (see `HTMLReport`).

/// The longest file name most file systems accept, in bytes.
let maxFileNameBytes = 255

/// The longest stem: room is left for the longest cell suffix, "_cell_-9223372036854775808.png".
let maxStemBytes = maxFileNameBytes - "_cell_\(Int.min).png".utf8.count

/// `overlays/STEM.png` for each input path, in order: STEM is the file name without its extension,
/// made safe as described above. Distinct inputs get distinct names even where file systems ignore
/// case: a stem already used gets "-2", "-3"… (the first free one, so inputs "a.jpg", "a.png",
/// "a-2.jpg" give "a", "a-2", "a-2-2"). Cost: O(total length of the paths) for names that differ.
public func overlayFileNames(for paths: [String]) -> [String] {
    var taken = Set<String>()
    var nextSuffix: [String: Int] = [:]
    return paths.map { path in
        let stem = safeStem(withoutExtension(lastComponent(path)))
        let key = stem.lowercased()
        var n = nextSuffix[key, default: 1]
        var candidate: String
        repeat {
            candidate = fitted(n == 1 ? stem : "\(stem)-\(n)", maxBytes: maxStemBytes)
            n += 1
        } while taken.contains(candidate.lowercased())
        nextSuffix[key] = n
        taken.insert(candidate.lowercased())
        return "overlays/" + candidate + ".png"
    }
}

/// `STEM_cell_ID.png`, the file name of the picture or crop of cell `id` of the field whose overlay
/// is `overlay` (a path from `overlayFileNames`, whose stem it reuses unchanged; any other string is
/// made safe first). Names from distinct overlays and ids are distinct, and at most 255 bytes long.
public func cellFileName(overlay: String, id: Int) -> String {
    let name = lastComponent(overlay)
    let stem = name.utf8.reversed().starts(with: ".png".utf8.reversed()) ? String(decoding: name.utf8.dropLast(4), as: UTF8.self) : name
    return fitted(safeStem(stem), maxBytes: maxStemBytes) + "_cell_\(id).png"
}

/// The last non-empty "/"-separated component of `path` ("" when it has none). Split by bytes, as the
/// file system does: a "/" followed by a combining mark still separates.
func lastComponent(_ path: String) -> String {
    path.utf8.split(separator: UInt8(ascii: "/")).last.map { String(decoding: $0, as: UTF8.self) } ?? ""
}

/// `name` without its last extension (from its last "." on, unless that "." is its first byte).
func withoutExtension(_ name: String) -> String {
    guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")), dot != name.utf8.startIndex else { return name }
    return String(decoding: name.utf8[..<dot], as: UTF8.self)
}

/// `stem` with "/" and control characters (C0, DEL, C1) replaced by "_", a leading "." replaced by
/// "_", and "_" for an empty stem.
func safeStem(_ stem: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in stem.unicodeScalars {
        let unsafe = scalar.isControl || scalar == "/" || (scalars.isEmpty && scalar == ".")
        scalars.append(unsafe ? "_" : scalar)
    }
    return scalars.isEmpty ? "_" : String(scalars)
}

/// `name` if it has at most `maxBytes` bytes of UTF-8; otherwise its longest beginning of whole
/// characters that leaves room for "~" and the 16 hex digits of `name`'s FNV-1a hash, followed by them.
func fitted(_ name: String, maxBytes: Int) -> String {
    guard name.utf8.count > maxBytes else { return name }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    let digits = String(hash, radix: 16)
    let tag = "~" + String(repeating: "0", count: 16 - digits.count) + digits
    var prefix = "", bytes = 0
    for character in name {
        bytes += character.utf8.count
        if bytes > maxBytes - tag.utf8.count { break }
        prefix.append(character)
    }
    return prefix + tag
}

extension Unicode.Scalar {
    /// Whether this is a control character: C0 (NUL to U+001F, line ends and ESC among them), DEL or C1.
    var isControl: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}

/// `name` made safe as one file name (no "/", control characters or leading "."; see `safeStem`) and
/// fitted to `maxBytes` bytes of UTF-8 (see `fitted`).
public func safeFileName(_ name: String, maxBytes: Int = 100) -> String { fitted(safeStem(name), maxBytes: maxBytes) }
