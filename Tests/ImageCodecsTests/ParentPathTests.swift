import Foundation
import Testing
import ImageCodecs

/// `parentPath` against the cases that trap Foundation, and against a plain reference on every path of
/// up to six characters over {a, /, .}.
@Suite struct ParentPathTests {
    @Test func knownCases() {
        let cases: [(String, String)] = [
            ("t", ""), (".", ""), ("t/", ""), ("", ""), ("ab", ""), ("a/b", "a"), ("a/b/", "a"), ("a//b", "a"),
            ("/t", "/"), ("/", "/"), ("//", "/"), ("/a/b/c", "/a/b"), ("out/report.json", "out"), ("./t", "."),
        ]
        for (path, parent) in cases { #expect(parentPath(path) == parent, "\(path)") }
    }

    /// The reference: drop trailing slashes (keeping a lone "/"), cut at the last slash, drop the
    /// slashes before it; no slash left means a bare name, whose parent is "".
    static func reference(_ path: String) -> String {
        var p = Array(path)
        while p.count > 1 && p.last == "/" { p.removeLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == 0 { return "/" }
        var parent = Array(p[..<slash])
        while parent.count > 1 && parent.last == "/" { parent.removeLast() }
        return String(parent)
    }

    @Test func everyShortPath() {
        var paths = [""]
        for _ in 0..<6 { paths += paths.suffix(paths.count).flatMap { p in ["a", "/", "."].map { p + $0 } } }
        for path in Set(paths) { #expect(parentPath(path) == Self.reference(path), "\(path)") }
    }
}
