import Foundation
import ImageCodecs
#if canImport(Glibc)
import Glibc
#endif

/// An output folder that never holds half-written files and serves one run at a time.
///
/// - **One run per folder.** `init` takes an exclusive `flock` on the hidden file `.smear-lock` in the
///   folder and keeps it until `commit()` or `discard()` (or the process's end, however it ends: the
///   kernel releases the lock of a dead process). A second run into the same folder waits for the
///   first, or with `wait: false` fails at once.
/// - **Nothing half-written.** Files are written into a hidden staging folder `.smear-staging-PID`
///   beside the final files and moved into place by `commit()`, one rename per file, the last step of
///   a run. If a rename fails (permission taken away, disk full), the files already moved are put
///   back: the folder keeps the previous run's complete results.
/// - **No leftovers.** A staging folder left by a run that died is recognised because its run no
///   longer holds the lock (or, where the file system has no locks, because no process has its PID)
///   and is removed by the next run. `discardAllUncommitted()` removes this process's staging
///   folders; the command line calls it on SIGINT/SIGTERM and at every exit.
///
/// Errors are `OutputError`s: one line naming the output path and the cause (`No space left on
/// device`, `Permission denied`, …).
public final class OutputFolder: Sendable {
    public let path: String
    let staging: String
    /// The open lock file (-1 once released, or where the file system has no locks).
    private let lock: LockFile

    /// Creates `path` (and parents) if needed, takes the folder's lock, removes stale staging folders
    /// and creates a fresh one. With `wait` (the default) a run already writing into the folder is
    /// waited for, after calling `onWait` once; without, that is an error.
    public init(path: String, wait: Bool = true, onWait: () -> Void = {}) throws(OutputError) {
        self.path = path
        try Self.makeFolders(path, describing: path)
        lock = try LockFile(path: (path as NSString).appendingPathComponent(Self.lockName), folder: path,
                            wait: wait, onWait: onWait)
        let pid = ProcessInfo.processInfo.processIdentifier
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasPrefix(Self.stagingPrefix) {
            let owner = Int32(name.dropFirst(Self.stagingPrefix.count)) ?? 0
            // Stale: we hold the lock, so no live run is writing into it; without locks, its process is gone.
            if lock.held || (owner > 0 && kill(owner, 0) != 0 && errno == ESRCH) {
                removeTree((path as NSString).appendingPathComponent(name))
            }
        }
        staging = (path as NSString).appendingPathComponent(Self.stagingPrefix + String(pid))
        do throws(OutputError) {
            try Self.makeFolders(staging, describing: path)
        } catch {
            lock.release()
            throw error
        }
        StagingRegistry.shared.add(staging)
    }

    static let lockName = ".smear-lock"
    static let stagingPrefix = ".smear-staging-"
    static let manifestName = ".smear-files"

    /// Writes `data` to `relativePath` (e.g. "overlays/a.png") in the staging folder. Safe to call
    /// from several threads at once. Throws when the folder was discarded (e.g. by a signal).
    public func write(_ data: Data, to relativePath: String) throws(OutputError) {
        let shown = (path as NSString).appendingPathComponent(relativePath)
        try StagingRegistry.shared.whileActive(staging, shown: shown) { () throws(OutputError) in
            let target = (staging as NSString).appendingPathComponent(relativePath)
            try Self.makeFolders(parentPath(target), describing: shown)
            try Self.writeFile(data, to: target, describing: shown)
        }
    }

    /// A file of the staging folder written piece by piece as a run goes (cells.csv of a slide), so that
    /// it never has to be held in memory; it moves into place with the rest at `commit()`. Appends
    /// from one thread at a time (the stream is not locked); close it before the commit.
    public final class Stream: @unchecked Sendable {
        let folder: OutputFolder
        let relativePath: String
        let target: String
        private var descriptor: Int32 = -1

        init(folder: OutputFolder, relativePath: String) throws(OutputError) {
            self.folder = folder
            self.relativePath = relativePath
            target = (folder.staging as NSString).appendingPathComponent(relativePath)
            try folder.write(Data(), to: relativePath)
            let shown = (folder.path as NSString).appendingPathComponent(relativePath)
            try StagingRegistry.shared.whileActive(folder.staging, shown: shown) { () throws(OutputError) in
                descriptor = open(target, O_WRONLY | O_APPEND | O_CLOEXEC)
                if descriptor < 0 { throw OutputError("\(shown): cannot write: \(String(cString: strerror(errno)))") }
            }
        }

        /// Appends `data`; the error names the output file and the cause.
        public func append(_ data: Data) throws(OutputError) {
            let shown = (folder.path as NSString).appendingPathComponent(relativePath)
            let fd = descriptor
            try StagingRegistry.shared.whileActive(folder.staging, shown: shown) { () throws(OutputError) in
                var failed = false
                data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { failed = true; return }
                        offset += n
                    }
                }
                if failed { throw OutputError("\(shown): cannot write: \(String(cString: strerror(errno)))") }
            }
        }

        /// Closes the file (checking the close, where some file systems report a full disk).
        public func close() throws(OutputError) {
            guard descriptor >= 0 else { return }
            let fd = descriptor
            descriptor = -1
            if Glibc.close(fd) != 0 {
                throw OutputError("\((folder.path as NSString).appendingPathComponent(relativePath)): cannot write: \(String(cString: strerror(errno)))")
            }
        }

        deinit { if descriptor >= 0 { _ = Glibc.close(descriptor) } }
    }

    /// Opens `relativePath` in the staging folder for writing piece by piece (see `Stream`).
    public func stream(to relativePath: String) throws(OutputError) -> Stream {
        try Stream(folder: self, relativePath: relativePath)
    }

    /// The path in the staging folder at which other code (libtiff) is to write the file that becomes
    /// `relativePath` at `commit()`, its folders created. The writer must finish the file, and remove
    /// any files of its own beside it, before the commit; what it leaves goes with the staging folder
    /// when the run stops.
    public func stagedPath(for relativePath: String) throws(OutputError) -> String {
        let target = (staging as NSString).appendingPathComponent(relativePath)
        try StagingRegistry.shared.whileActive(staging, shown: (path as NSString).appendingPathComponent(relativePath)) { () throws(OutputError) in
            try Self.makeFolders((target as NSString).deletingLastPathComponent, describing: (path as NSString).appendingPathComponent(relativePath))
        }
        return target
    }

    /// Moves every staged file to its final place (replacing older ones), removes the files that the
    /// previous run into this folder wrote and this run did not (overlays of other fields), records
    /// what this run wrote in `.smear-files` (one relative path per line), removes the staging folder
    /// and releases the lock. Files smear did not write are never touched. When a move fails, the
    /// files already moved are restored and the error names the file and the cause.
    public func commit() throws(OutputError) {
        let files = stagedFiles()
        let previous = previousRunFiles()
        try write(Data(files.map { $0 + "\n" }.joined().utf8), to: Self.manifestName)
        try StagingRegistry.shared.finishing(staging) { () throws(OutputError) in
            var moved: [(relative: String, backup: String?)] = []
            do throws(OutputError) {
                for relative in files + [Self.manifestName] {
                    moved.append((relative, try moveIntoPlace(relative)))
                }
            } catch {
                for step in moved.reversed() { restore(step.relative, backup: step.backup) }
                throw error
            }
            for stale in previous.subtracting(files) { removeStale(stale) }
        }
        lock.release()
    }

    /// Removes the staging folder without touching the final files, and releases the lock.
    public func discard() {
        StagingRegistry.shared.remove(staging)
        lock.release()
    }

    /// Removes the staging folders of every folder of this process that is not yet committed, waiting
    /// for writes in progress. Later writes into them fail. For signal handlers and exit paths.
    public static func discardAllUncommitted() {
        StagingRegistry.shared.removeAll()
    }

    /// Files in the staging folder, relative to it, sorted.
    func stagedFiles() -> [String] {
        let fm = FileManager.default
        return (fm.enumerator(atPath: staging)?.compactMap { $0 as? String } ?? []).filter { relative in
            var isDirectory: ObjCBool = false
            return relative != Self.manifestName
                && fm.fileExists(atPath: (staging as NSString).appendingPathComponent(relative), isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.sorted()
    }

    /// Renames the staged `relative` over its final place. An existing final file is first
    /// hard-linked into the staging folder's `.previous/` so that it can be restored; returns that
    /// backup's path (nil when there was no file).
    func moveIntoPlace(_ relative: String) throws(OutputError) -> String? {
        let target = (path as NSString).appendingPathComponent(relative)
        try Self.makeFolders(parentPath(target), describing: target)
        var backup: String? = (staging as NSString).appendingPathComponent(".previous/" + relative)
        if access(target, F_OK) == 0 {
            try Self.makeFolders(parentPath(backup!), describing: target)
            if link(target, backup!) != 0 { backup = nil }
        } else {
            backup = nil
        }
        if rename((staging as NSString).appendingPathComponent(relative), target) != 0 {
            throw OutputError("\(target): cannot move into place: \(String(cString: strerror(errno)))")
        }
        return backup
    }

    /// Undoes one `moveIntoPlace`: the previous file back, or the new one removed.
    func restore(_ relative: String, backup: String?) {
        let target = (path as NSString).appendingPathComponent(relative)
        if let backup { _ = rename(backup, target) } else { _ = unlink(target) }
    }

    /// The files listed by the last committed run, without entries that could point outside the folder.
    func previousRunFiles() -> Set<String> {
        guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(Self.manifestName))
        else { return [] }
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { line in
            !line.hasPrefix("/") && !line.hasPrefix(".smear-") && !line.split(separator: "/").contains("..")
        })
    }

    /// Removes one file of the previous run, and its folders up to `path` once they are empty.
    func removeStale(_ relative: String) {
        let fm = FileManager.default
        var target = (path as NSString).appendingPathComponent(relative)
        try? fm.removeItem(atPath: target)
        while true {
            target = parentPath(target)
            guard target.count > path.count, (try? fm.contentsOfDirectory(atPath: target))?.isEmpty == true else { break }
            try? fm.removeItem(atPath: target)
        }
    }

    /// `mkdir -p`, with errors that name `describing` and the system's reason.
    static func makeFolders(_ folder: String, describing shown: String) throws(OutputError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputError("\(folder): exists and is not a folder") }
            return
        }
        let parent = parentPath(folder)
        if !parent.isEmpty && parent != folder { try makeFolders(parent, describing: shown) }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            let reason = errno == ENOTDIR ? "a part of the path is a file, not a folder" : String(cString: strerror(errno))
            throw OutputError("\(folder): cannot create the folder: \(reason)")
        }
    }

    /// Writes `data` to a new file at `target` (replacing one there), checking every step, close
    /// included (where some file systems report a full disk).
    static func writeFile(_ data: Data, to target: String, describing shown: String) throws(OutputError) {
        func failure() -> OutputError { OutputError("\(shown): cannot write: \(String(cString: strerror(errno)))") }
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure() }
        var failed: OutputError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { failed = failure(); return }
                offset += n
            }
        }
        if close(fd) != 0 && failed == nil { failed = failure() }
        if let failed { throw failed }
    }
}

/// An exclusive `flock` on a lock file, held until `release()`.
private final class LockFile: @unchecked Sendable {
    private let descriptor: Int32
    /// Whether the lock is held (false where the file system does not support locks).
    let held: Bool
    private var released = false
    private let mutex = NSLock()

    init(path: String, folder: String, wait: Bool, onWait: () -> Void) throws(OutputError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputError("\(folder): cannot create the lock file \(Self.name(path)): \(String(cString: strerror(errno)))") }
        descriptor = fd
        var locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        if !locked && errno == EWOULDBLOCK {
            guard wait else {
                close(fd)
                throw OutputError("\(folder): another smear run is writing into this folder (wait for it, or choose another output folder)")
            }
            onWait()
            while !locked {
                locked = flock(fd, LOCK_EX) == 0
                guard locked, errno == EINTR else { break }
            }
            if !locked {
                close(fd)
                throw OutputError("\(folder): cannot lock the folder: \(String(cString: strerror(errno)))")
            }
        }
        held = locked
    }

    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }

    func release() {
        mutex.lock(); defer { mutex.unlock() }
        if !released { close(descriptor) }
        released = true
    }

    deinit { release() }
}

/// This process's staging folders that are not yet committed or discarded, for removal on a signal
/// or at exit. Writes hold a shared lock while they touch a staging folder and removal an exclusive
/// one, so that a removal never races a write that would re-create the folder.
final class StagingRegistry: @unchecked Sendable {
    static let shared = StagingRegistry()
    private var active: Set<String> = []
    private var rw = pthread_rwlock_t()

    private init() { pthread_rwlock_init(&rw, nil) }

    func add(_ staging: String) {
        pthread_rwlock_wrlock(&rw); defer { pthread_rwlock_unlock(&rw) }
        active.insert(staging)
    }

    /// Runs `body` (a write into `staging`) unless the folder was discarded.
    func whileActive(_ staging: String, shown: String, _ body: () throws(OutputError) -> Void) throws(OutputError) {
        pthread_rwlock_rdlock(&rw); defer { pthread_rwlock_unlock(&rw) }
        guard active.contains(staging) else { throw OutputError("\(shown): cannot write: the run was stopped") }
        try body()
    }

    /// Runs `body` (the commit's renames) with no write or removal in between; when it succeeds,
    /// removes `staging` (what is left in it: backups of replaced files) and forgets it.
    func finishing(_ staging: String, _ body: () throws(OutputError) -> Void) throws(OutputError) {
        pthread_rwlock_wrlock(&rw); defer { pthread_rwlock_unlock(&rw) }
        try body()
        active.remove(staging)
        removeTree(staging)
    }

    func remove(_ staging: String) {
        pthread_rwlock_wrlock(&rw); defer { pthread_rwlock_unlock(&rw) }
        active.remove(staging)
        removeTree(staging)
    }

    func removeAll() {
        pthread_rwlock_wrlock(&rw); defer { pthread_rwlock_unlock(&rw) }
        for staging in active { removeTree(staging) }
        active.removeAll()
    }
}

/// Removes `path` and everything under it, as much as can be: an entry that cannot be removed (the
/// folder holding it is no longer writable) does not stop the removal of the others. Symbolic links
/// are removed, never followed.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            removeTree((path as NSString).appendingPathComponent(name))
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// A failure to write outputs; one line.
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
