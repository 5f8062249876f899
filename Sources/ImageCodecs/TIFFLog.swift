import CTIFF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libtiff's messages for one handle, kept instead of printed.
public final class MessageLog {
    public var errors: [String] = []
    public var warnings: [String] = []
    public init() {}
}

/// Routing of libtiff's error and warning messages into a `MessageLog` per handle.
public enum TIFFLog {
    /// The name libtiff knows every handle by; removed from the front of its messages (ours name the file).
    public static let handleName = "TIFF data"

    /// libtiff's process-wide handlers print to stderr; every handle here has its own, so switch the
    /// global ones off (once: a `static let` is initialised exactly once, thread-safely).
    public static let silenceGlobalHandlers: Void = {
        TIFFSetErrorHandler(nil)
        TIFFSetWarningHandler(nil)
    }()

    /// Makes the handles opened with `options` record their messages in `log` (which must outlive them).
    public static func install(_ log: MessageLog, on options: OpaquePointer?) {
        let pointer = Unmanaged.passUnretained(log).toOpaque()
        TIFFOpenOptionsSetErrorHandlerExtR(options, recordError, pointer)
        TIFFOpenOptionsSetWarningHandlerExtR(options, recordWarning, pointer)
    }

    private static let recordError: TIFFErrorHandlerExtR = { _, userData, _, format, arguments in
        guard let userData, let format, let arguments else { return 1 }
        Unmanaged<MessageLog>.fromOpaque(userData).takeUnretainedValue().errors.append(text(format, arguments))
        return 1  // handled: do not call the global handler
    }

    private static let recordWarning: TIFFErrorHandlerExtR = { _, userData, _, format, arguments in
        guard let userData, let format, let arguments else { return 1 }
        Unmanaged<MessageLog>.fromOpaque(userData).takeUnretainedValue().warnings.append(text(format, arguments))
        return 1
    }

    private static func text(_ format: UnsafePointer<CChar>, _ arguments: CVaListPointer) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        _ = vsnprintf(&buffer, buffer.count, format, arguments)
        var text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix(handleName + ": ") { text.removeFirst(handleName.count + 2) }
        return text.singleLine
    }
}

extension String {
    /// The text with line breaks and runs of whitespace collapsed to single spaces, for quoting a C
    /// library's message inside a one-line error.
    public var singleLine: String {
        split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
