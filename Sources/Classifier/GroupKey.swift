/// Extracts the split group (e.g. the patient) from a file name, so that train/validation splits never
/// put cells of one group on both sides.
///
/// The key is the first capture group that took part in the first match of `pattern` in the file name
/// (or the whole match if the pattern has no groups). Names that do not match are their own group.
public struct GroupKey: Sendable {
    /// NIH malaria cells: `C33P1thinF_…` → `P1` (also `C37BP2_thinF_…` → `P2`); names without a P number
    /// (`C1_thinF_…`, `C201ThinF_…`) are uninfected-only patients keyed by their C number → `C1`, `C201`.
    public static let nihPattern = #"^C\d+[A-Za-z]?(P\d+)|^(C\d+)"#

    public let pattern: String
    private nonisolated(unsafe) let regex: Regex<AnyRegexOutput>

    public init(pattern: String = GroupKey.nihPattern) throws {
        self.pattern = pattern
        do { regex = try Regex(pattern) } catch { throw GroupKeyError(description: "invalid group pattern '\(pattern)': \(error)") }
    }

    /// The group of the file called `name` (a file name, not a path), or nil if the pattern does not match.
    public func key(_ name: String) -> String? {
        guard let match = name.firstMatch(of: regex) else { return nil }
        for i in 1 ..< max(match.output.count, 1) { if let s = match.output[i].substring { return String(s) } }
        return String(match.output[0].substring ?? "")
    }

    /// Whether `group` falls on the validation side for `seed`: a stable 64-bit FNV-1a hash of
    /// "seed:group" mapped to [0, 1) and compared with `fraction`.
    public static func isValidation(_ group: String, fraction: Double, seed: UInt64) -> Bool {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in "\(seed):\(group)".utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h ^= h >> 33; h = h &* 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33
        return Double(h >> 11) / Double(1 << 53) < fraction
    }
}

public struct GroupKeyError: Error, CustomStringConvertible { public let description: String }
