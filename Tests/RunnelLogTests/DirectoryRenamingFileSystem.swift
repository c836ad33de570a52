import RunnelStorage

/// `SimulatedFileSystem` renames files only; this stand-in renames directories as a real file system
/// does, the children travelling with the directory (moved, then synced in their new directory, as the
/// inode's contents would be). Not atomic against a crash in the middle: tests crash only between calls.
final class DirectoryRenamingFileSystem: FileSystem {
    let base: SimulatedFileSystem

    init(_ base: SimulatedFileSystem) { self.base = base }

    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile { try base.openFile(path, options: options) }
    func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    func removeFile(_ path: String) throws { try base.removeFile(path) }
    func removeDirectory(_ path: String) throws { try base.removeDirectory(path) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }

    func rename(from: String, to: String) throws {
        guard base.directoryExists(from) else { return try base.rename(from: from, to: to) }
        guard !base.fileExists(to) && !base.directoryExists(to) else { throw StorageError.alreadyExists(to) }
        try base.createDirectory(to)
        for name in try base.contentsOfDirectory(from) {
            try rename(from: Path.join(from, name), to: Path.join(to, name))
        }
        try base.syncDirectory(to)
        try base.removeDirectory(from)
    }
}
