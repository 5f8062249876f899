import Foundation

/// A progress line on standard error ("[12/45] field7.jpg"), redrawn in place on a terminal and
/// printed every 10% otherwise. Thread-safe.
final class Progress: @unchecked Sendable {
    let total: Int
    let enabled: Bool
    let isTerminal = isatty(2) != 0
    private var done = 0
    private let lock = NSLock()

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func step(_ item: String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        done += 1
        let name = (item as NSString).lastPathComponent
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(done)/\(total)] \(name)".utf8))
        } else if done == total || done % max(1, total / 10) == 0 {
            FileHandle.standardError.write(Data("[\(done)/\(total)] \(name)\n".utf8))
        }
    }

    func finish() {
        if enabled && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("smear: \(message)\n".utf8))
}

let smearVersion = "0.1.0"
