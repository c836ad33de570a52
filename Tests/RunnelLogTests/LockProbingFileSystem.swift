import Dispatch
import RunnelLog
import RunnelStorage
import Synchronization

/// A simulated file system that, whenever a segment file is closed or unlinked, checks from another thread that
/// the partition log's lock is free: freeing a large file's blocks takes tens of milliseconds, which
/// must never be spent holding up appends. A probe that cannot take the lock within a second is noted.
final class LockProbingFileSystem: FileSystem, @unchecked Sendable {
    let base = SimulatedFileSystem()
    /// Set once the log is open; reads something under the log's lock.
    var probe: (@Sendable () -> Void)?
    private let blocked = Mutex<[String]>([])
    private let probes = Atomic<Int>(0)

    /// What was closed or unlinked while the log's lock was held.
    var underLock: [String] { blocked.withLock { $0 } }
    var probeCount: Int { probes.load(ordering: .relaxed) }

    /// Probes segment files only: small checkpoint files are written and replaced under the lock by design.
    func check(_ what: String) {
        guard let probe, [".log", ".index", ".timeindex"].contains(where: { what.contains($0) }) else { return }
        probes.add(1, ordering: .relaxed)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            probe()
            done.signal()
        }
        // On a timeout the probe finishes later, once the lock is released.
        if done.wait(timeout: .now() + .seconds(1)) == .timedOut {
            blocked.withLock { $0.append(what) }
        }
    }

    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        ProbedFile(base: try base.openFile(path, options: options), fileSystem: self)
    }
    func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    func removeFile(_ path: String) throws {
        check("unlink \(path)")
        try base.removeFile(path)
    }
    func removeDirectory(_ path: String) throws { try base.removeDirectory(path) }
    func rename(from: String, to: String) throws { try base.rename(from: from, to: to) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
}

final class ProbedFile: StorageFile, @unchecked Sendable {
    let base: any StorageFile
    let fileSystem: LockProbingFileSystem

    init(base: any StorageFile, fileSystem: LockProbingFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    var fileDescriptor: Int32? { nil }
    func size() throws -> Int64 { try base.size() }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int { try base.read(into: buffer, at: offset) }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws { try base.write(bytes, at: offset) }
    func truncate(to size: Int64) throws { try base.truncate(to: size) }
    func sync() throws { try base.sync() }
    func close() {
        fileSystem.check("close \(path)")
        base.close()
    }
}
