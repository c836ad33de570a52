/// The one small file-I/O protocol. The log store and the Raft write-ahead log do all their file access
/// through it, so that `SimulatedFileSystem` can stand in for the disk: it drops what was never synced
/// and tears the last write on a simulated crash.
/// Every throwing member throws `StorageError`.
public protocol FileSystem: Sendable {
    /// Opens (and with `.create`, creates) a regular file. A new file's name is durable only after
    /// `syncDirectory` of its parent.
    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile
    /// Creates the directory and any missing parents; an existing directory is fine.
    func createDirectory(_ path: String) throws
    /// Names (not paths) of the entries in a directory, sorted.
    func contentsOfDirectory(_ path: String) throws -> [String]
    func fileExists(_ path: String) -> Bool
    func directoryExists(_ path: String) -> Bool
    func removeFile(_ path: String) throws
    /// Removes a directory and everything below it.
    func removeDirectory(_ path: String) throws
    /// Atomically replaces `to` with `from` (POSIX rename). Durable after `syncDirectory`.
    func rename(from: String, to: String) throws
    /// Makes the directory's entries (created, renamed, removed names) durable.
    func syncDirectory(_ path: String) throws
}

public struct OpenOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Create the file if it does not exist.
    public static let create = OpenOptions(rawValue: 1 << 0)
    /// Fail if the file exists (with `.create`).
    public static let exclusive = OpenOptions(rawValue: 1 << 1)
    /// Truncate an existing file to zero bytes.
    public static let truncate = OpenOptions(rawValue: 1 << 2)
}

/// An open regular file with positional reads and writes. Callers keep their own append position.
public protocol StorageFile: AnyObject, Sendable {
    var path: String { get }
    func size() throws -> Int64
    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (fewer only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int
    /// Writes all of `bytes` at `offset`, extending the file if needed.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws
    /// Writes `parts` one after another from `offset`, as one write where the file can (pwritev).
    func write(gathering parts: [UnsafeRawBufferPointer], at offset: Int64) throws
    func truncate(to size: Int64) throws
    /// Makes the file's data durable (fdatasync). A failure is final: the caller must stop, never retry.
    func sync() throws
    func close()
    /// The descriptor for zero-copy transfer (sendfile); nil for simulated files.
    var fileDescriptor: Int32? { get }
}

public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case notADirectory(String)
    case closed(String)
    /// An operating-system error: the operation, the path and errno.
    case io(operation: String, path: String, errno: Int32)
    /// fsync/fdatasync failed. Never retried: the page cache may have dropped the data.
    case syncFailed(path: String, errno: Int32)
    case schedulerStopped
    case queueFull(limit: Int)

    public var description: String {
        switch self {
        case .notFound(let p): return "not found: \(p)"
        case .alreadyExists(let p): return "already exists: \(p)"
        case .notADirectory(let p): return "not a directory: \(p)"
        case .closed(let p): return "file closed: \(p)"
        case .io(let op, let p, let e): return "\(op) \(p): errno \(e)"
        case .syncFailed(let p, let e): return "fsync failed for \(p): errno \(e)"
        case .schedulerStopped: return "fsync scheduler stopped"
        case .queueFull(let limit): return "fsync queue full (\(limit) waiters)"
        }
    }
}

extension StorageFile {
    /// Reads exactly `count` bytes at `offset`, or fewer at end of file.
    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        precondition(count >= 0)
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withUnsafeMutableBytes { buffer -> Int in
            var done = 0
            while done < count {
                let got = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
                if got == 0 { break }
                done += got
            }
            return done
        }
        bytes.removeLast(count - n)
        return bytes
    }

    public func write(_ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { raw in try write(raw, at: offset) }
    }

    /// The whole file.
    public func readAll() throws -> [UInt8] {
        try read(at: 0, count: Int(try size()))
    }
}

extension FileSystem {
    /// Writes `bytes` to `path` crash-safely: a temporary file, fsync, rename over, fsync of the directory.
    /// Checkpoint files use it, so a crash leaves either the old or the new content, never a mix.
    public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let file = try openFile(temporary, options: [.create, .truncate])
        do {
            try file.write(bytes, at: 0)
            try file.sync()
        } catch {
            file.close()
            throw error
        }
        file.close()
        try rename(from: temporary, to: path)
        try syncDirectory(Path.parent(of: path))
    }
}

/// Path helpers on "/"-separated strings (no Foundation in the storage core).
public enum Path {
    public static func join(_ parts: String...) -> String {
        var result = ""
        for part in parts where !part.isEmpty {
            if result.isEmpty || result.hasSuffix("/") { result += part } else { result += "/" + part }
        }
        return result
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension StorageFile {
    /// Part by part: each part is its own write (and, for the crash-point file system, its own step).
    public func write(gathering parts: [UnsafeRawBufferPointer], at offset: Int64) throws {
        var position = offset
        for part in parts {
            try write(part, at: position)
            position += Int64(part.count)
        }
    }
}
