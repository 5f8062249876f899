import Dispatch
import Foundation
import Reports

/// What happens when smear is stopped from outside or exits early: SIGINT, SIGTERM and SIGHUP (unless ignored when smear started, as by nohup) remove
/// the staging folders of the run (so the output folder keeps the previous complete results and
/// nothing half-written) and then end the process by that signal, so that the shell sees the usual
/// status (130 for Ctrl-C). Every other exit, error exits included, removes them too (`atexit`).
enum Interruption {
    /// The signal sources, kept alive for the life of the process.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    /// What is printed after "stopped by SIGNAL; " (`smear serve` says what becomes of its analyses).
    nonisolated(unsafe) static var consequence = "no results written"

    /// Installs the handlers; call once, before any output folder is opened.
    static func install() {
        atexit { OutputFolder.discardAllUncommitted() }
        let queue = DispatchQueue(label: "smear.signals")
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            // A signal ignored by whoever started smear (nohup; a background job's SIGINT) stays ignored.
            let previous = signal(signalNumber, SIG_IGN)
            guard !isIgnore(previous) else { continue }
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                OutputFolder.discardAllUncommitted()
                FileHandle.standardError.write(Data("\nsmear: stopped by \(name(signalNumber)); \(consequence)\n".utf8))
                // libdispatch keeps the signal blocked and reads it from a descriptor: restore the
                // default action and unblock it in this thread before raising it again.
                signal(signalNumber, SIG_DFL)
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, signalNumber)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                raise(signalNumber)
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    static func isIgnore(_ handler: __sighandler_t?) -> Bool {
        guard let handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    static func name(_ signalNumber: Int32) -> String {
        switch signalNumber {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signalNumber)"
        }
    }
}
