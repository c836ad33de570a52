/// A `SimulatedFileSystem` that crashes (with a seeded tear) instead of carrying out its `crashAt`-th
/// mutating operation — file creation, write, truncate, sync, rename, removal, directory sync — so a test
/// can crash a multi-step operation at every point. For tests; single-threaded use.
public final class CrashPointFileSystem: FileSystem, @unchecked Sendable {
    public let base: SimulatedFileSystem
    public let crashAt: Int
    public let tearSeed: UInt64
    public private(set) var operations = 0
    public private(set) var crashed = false

    public init(base: SimulatedFileSystem, crashAt: Int, tearSeed: UInt64) {
        self.base = base
        self.crashAt = crashAt
        self.tearSeed = tearSeed
    }

    public func step() throws {
        if crashed { throw StorageError.closed("crashed") }
        operations += 1
        if operations == crashAt {
            crashed = true
            base.crash(.seeded(tearSeed))
            throw StorageError.io(operation: "simulated power loss", path: "", errno: 0)
        }
    }

    public func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        if options.contains(.create) || options.contains(.truncate) { try step() }
        return CrashPointFile(base: try base.openFile(path, options: options), fileSystem: self)
    }
    public func createDirectory(_ path: String) throws { try step(); try base.createDirectory(path) }
    public func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    public func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    public func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    public func removeFile(_ path: String) throws { try step(); try base.removeFile(path) }
    public func removeDirectory(_ path: String) throws { try step(); try base.removeDirectory(path) }
    public func rename(from: String, to: String) throws { try step(); try base.rename(from: from, to: to) }
    public func syncDirectory(_ path: String) throws { try step(); try base.syncDirectory(path) }
}

public final class CrashPointFile: StorageFile, @unchecked Sendable {
    public let base: any StorageFile
    public let fileSystem: CrashPointFileSystem

    public init(base: any StorageFile, fileSystem: CrashPointFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    public var path: String { base.path }
    public var fileDescriptor: Int32? { nil }
    public func size() throws -> Int64 { try base.size() }
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int { try base.read(into: buffer, at: offset) }
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws { try fileSystem.step(); try base.write(bytes, at: offset) }
    public func truncate(to size: Int64) throws { try fileSystem.step(); try base.truncate(to: size) }
    public func sync() throws { try fileSystem.step(); try base.sync() }
    public func close() { base.close() }
}
