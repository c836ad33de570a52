import RunnelStorage

/// A `SimulatedFileSystem` that crashes (with a seeded tear) instead of carrying out its `crashAt`-th
/// mutating operation — file creation, write, truncate, sync, rename, removal, directory sync — so a test
/// can crash a multi-step operation at every point. Test-only; single-threaded use.
final class CrashPointFileSystem: FileSystem, @unchecked Sendable {
    let base: SimulatedFileSystem
    let crashAt: Int
    let tearSeed: UInt64
    private(set) var operations = 0
    private(set) var crashed = false

    init(base: SimulatedFileSystem, crashAt: Int, tearSeed: UInt64) {
        self.base = base
        self.crashAt = crashAt
        self.tearSeed = tearSeed
    }

    func step() throws {
        if crashed { throw StorageError.closed("crashed") }
        operations += 1
        if operations == crashAt {
            crashed = true
            base.crash(.seeded(tearSeed))
            throw StorageError.io(operation: "simulated power loss", path: "", errno: 0)
        }
    }

    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        if options.contains(.create) || options.contains(.truncate) { try step() }
        return CrashPointFile(base: try base.openFile(path, options: options), fileSystem: self)
    }
    func createDirectory(_ path: String) throws { try step(); try base.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    func removeFile(_ path: String) throws { try step(); try base.removeFile(path) }
    func removeDirectory(_ path: String) throws { try step(); try base.removeDirectory(path) }
    func rename(from: String, to: String) throws { try step(); try base.rename(from: from, to: to) }
    func syncDirectory(_ path: String) throws { try step(); try base.syncDirectory(path) }
}

final class CrashPointFile: StorageFile, @unchecked Sendable {
    let base: any StorageFile
    let fileSystem: CrashPointFileSystem

    init(base: any StorageFile, fileSystem: CrashPointFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    var fileDescriptor: Int32? { nil }
    func size() throws -> Int64 { try base.size() }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int { try base.read(into: buffer, at: offset) }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws { try fileSystem.step(); try base.write(bytes, at: offset) }
    func truncate(to size: Int64) throws { try fileSystem.step(); try base.truncate(to: size) }
    func sync() throws { try fileSystem.step(); try base.sync() }
    func close() { base.close() }
}
