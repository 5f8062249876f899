import Foundation
import Pipeline

/// A run's progress on standard error ("[12/45] field7.jpg, 0:42 left"), redrawn in place on a
/// terminal and printed every 10% otherwise; nothing when not `enabled` (a single input). The time left
/// is the time so far per item times the items left (items: fields, or a slide's tiles, which restart
/// the count). Thread-safe.
final class Progress: AnalysisSink, @unchecked Sendable {
    let enabled: Bool
    let isTerminal = isatty(2) != 0
    private var drawn = false
    private var started: (item: String, total: Int, at: Date)?
    private let lock = NSLock()

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func receive(_ event: AnalysisEvent) {
        guard enabled, case .progress(let done, let total, let item) = event else { return }
        lock.lock(); defer { lock.unlock() }
        let name = terminalSafe((item as NSString).lastPathComponent)
        if done <= 1 || started?.total != total { started = (item, total, Date()) }
        var line = "[\(done)/\(total)] \(name)"
        if let started, done > 1, done < total {
            let left = Date().timeIntervalSince(started.at) / Double(done - 1) * Double(total - done)
            line += String(format: ", %d:%02d left", Int(left) / 60, Int(left) % 60)
        }
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            drawn = true
        } else if done == total || done % max(1, total / 10) == 0 {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Ends the line redrawn in place, if any.
    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Prints `smear: MESSAGE` on standard error as one line: control characters in it (a line break or an
/// escape sequence in a file name) show as "?", so a name cannot break the line or drive the terminal.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("smear: \(terminalSafe(message))\n".utf8))
}

/// `text` with every control character (C0, DEL, C1) replaced by "?".
func terminalSafe(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars { out.append(scalar.properties.generalCategory == .control ? "?" : scalar) }
    return String(out)
}

