import ArgumentParser
import Foundation
import Reports

/// How a command opens its output folder: one run at a time per folder, waiting for another run by
/// default (`--no-wait`: fail at once instead).
struct OutputOptions: ParsableArguments {
    @Flag(help: "Fail at once, instead of waiting, when another smear run is writing into the output folder.")
    var noWait = false

    /// Opens `path` for writing (see `OutputFolder`), saying on standard error when it has to wait.
    func open(_ path: String) throws -> OutputFolder {
        try OutputFolder(path: path, wait: !noWait, onWait: {
            printError("\(path): another smear run is writing into this folder; waiting for it to finish (--no-wait to fail instead)")
        })
    }
}
