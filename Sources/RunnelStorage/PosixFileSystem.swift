#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The real disk, through POSIX calls.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        var flags = O_RDWR | O_CLOEXEC
        if options.contains(.create) { flags |= O_CREAT }
        if options.contains(.exclusive) { flags |= O_EXCL }
        if options.contains(.truncate) { flags |= O_TRUNC }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw StorageError.notFound(path) }
            if code == EEXIST { throw StorageError.alreadyExists(path) }
            throw StorageError.io(operation: "open", path: path, errno: code)
        }
        return PosixFile(path: path, fd: fd)
    }

    public func createDirectory(_ path: String) throws {
        if directoryExists(path) { return }
        let parent = Path.parent(of: path)
        if parent != path && parent != "." && !directoryExists(parent) { try createDirectory(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw StorageError.io(operation: "mkdir", path: path, errno: errno)
        }
    }

    public func contentsOfDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { throw StorageError.notFound(path) }
            throw StorageError.io(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    public func directoryExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public func removeFile(_ path: String) throws {
        if unlink(path) != 0 {
            if errno == ENOENT { throw StorageError.notFound(path) }
            throw StorageError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    public func removeDirectory(_ path: String) throws {
        for name in try contentsOfDirectory(path) {
            let child = Path.join(path, name)
            if directoryExists(child) { try removeDirectory(child) } else { try removeFile(child) }
        }
        if rmdir(path) != 0 { throw StorageError.io(operation: "rmdir", path: path, errno: errno) }
    }

    public func rename(from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 {
            if errno == ENOENT { throw StorageError.notFound(from) }
            throw StorageError.io(operation: "rename", path: from, errno: errno)
        }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.io(operation: "open dir", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 { throw StorageError.syncFailed(path: path, errno: errno) }
    }
}

final class PosixFile: StorageFile {
    let path: String
    private let fd: Int32
    private let isClosed = Atomic<Bool>(false)

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close() }

    var fileDescriptor: Int32? { isClosed.load(ordering: .relaxed) ? nil : fd }

    private func checkOpen() throws {
        if isClosed.load(ordering: .relaxed) { throw StorageError.closed(path) }
    }

    func size() throws -> Int64 {
        try checkOpen()
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.io(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try checkOpen()
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw StorageError.io(operation: "pread", path: path, errno: errno) }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        try checkOpen()
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "pwrite", path: path, errno: errno)
            }
            done += n
        }
    }

    /// IOV_MAX on Linux and the BSDs (the C macro does not reach Swift).
    static let vectorsPerWriteMax = 1024

    func write(gathering parts: [UnsafeRawBufferPointer], at offset: Int64) throws {
        try checkOpen()
        var vectors: [iovec] = []
        vectors.reserveCapacity(parts.count)
        for part in parts where part.count > 0 {
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: part.baseAddress), iov_len: part.count))
        }
        var first = 0
        var position = off_t(offset)
        while first < vectors.count {
            let count = min(vectors.count - first, Self.vectorsPerWriteMax)
            let n = vectors.withUnsafeBufferPointer { pwritev(fd, $0.baseAddress! + first, Int32(count), position) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "pwritev", path: path, errno: errno)
            }
            position += off_t(n)
            // Skip what was written: whole vectors, then part of the next one.
            var left = n
            while first < vectors.count, left >= vectors[first].iov_len {
                left -= vectors[first].iov_len
                first += 1
            }
            if left > 0 {
                vectors[first].iov_base = vectors[first].iov_base! + left
                vectors[first].iov_len -= left
            }
        }
    }

    func truncate(to size: Int64) throws {
        try checkOpen()
        if ftruncate(fd, off_t(size)) != 0 { throw StorageError.io(operation: "ftruncate", path: path, errno: errno) }
    }

    func sync() throws {
        try checkOpen()
        if fdatasync(fd) != 0 { throw StorageError.syncFailed(path: path, errno: errno) }
    }

    func close() {
        if isClosed.exchange(true, ordering: .relaxed) == false { _ = Glibc.close(fd) }
    }
}
