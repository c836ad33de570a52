import Logging
import RunnelStorage
import Synchronization

/// All partition logs under one data directory: lists what exists at start, creates, opens and deletes
/// logs, and sets aside directories the metadata does not name. Nothing here deletes a directory that
/// the metadata did not delete: what is unknown is renamed `-stray`, never removed.
public final class LogManager: Sendable {
    public let dataDirectory: String
    private let fileSystem: any FileSystem
    private let syncScheduler: any SyncScheduling
    private let logs = Mutex<[PartitionDirectory: PartitionLog]>([:])
    /// Where recovery reports what it cut and the corruption it refused to cut.
    private let logger: Logger

    /// A partition directory found on disk: its name says the partition, its `partition.metadata` the
    /// topic (nil when the file is missing or unreadable: a crash between making the directory and writing it).
    public struct ExistingPartition: Hashable, Sendable {
        public let topic: String
        public let partition: Int32
        public let topicID: TopicUUID?
        public var name: String { PartitionDirectory.name(topic: topic, partition: partition) }
    }

    /// A rename done at start: a directory of the old layout moved to Kafka's, or set aside.
    public struct Rename: Hashable, Sendable {
        public let from: String
        public let to: String
    }

    public init(dataDirectory: String, fileSystem: any FileSystem, syncScheduler: any SyncScheduling,
                logger: Logger = Logger(label: "runnel.log")) throws(LogError) {
        self.logger = logger
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
        self.syncScheduler = syncScheduler
        try Self.storage(dataDirectory) {
            if !fileSystem.directoryExists(dataDirectory) {
                // New directories, possibly several levels: each name is durable once its parent is synced.
                var missing: [String] = []
                var cursor = dataDirectory
                while !fileSystem.directoryExists(cursor) && cursor != "/" && cursor != "." && missing.count < 64 {
                    missing.append(cursor)
                    cursor = Path.parent(of: cursor)
                }
                try fileSystem.createDirectory(dataDirectory)
                for directory in missing.reversed() { try fileSystem.syncDirectory(Path.parent(of: directory)) }
            }
        }
    }

    /// Partition directories present on disk (other names are ignored).
    public func existingPartitions() throws(LogError) -> [ExistingPartition] {
        try Self.storage(dataDirectory) {
            try fileSystem.contentsOfDirectory(dataDirectory).sorted().compactMap { name in
                guard let (topic, partition) = PartitionDirectory.parse(name) else { return nil }
                let path = Path.join(dataDirectory, name)
                guard fileSystem.directoryExists(path) else { return nil }
                let id = try? PartitionMetadataFile.read(directory: path, fileSystem: fileSystem)
                return ExistingPartition(topic: topic, partition: partition, topicID: id ?? nil)
            }
        }
    }

    /// Moves directories of the old layout (`<topic>-<partition>-<id hex>`) to `<topic>-<partition>`
    /// with the id in `partition.metadata`; one whose new name is taken is set aside as stray instead.
    /// Crash-safe: the file is written (and synced) inside the old directory first, the rename is atomic,
    /// the data directory is synced after it; a crash anywhere leaves one name or the other, both valid.
    public func migrateLegacyDirectories() throws(LogError) -> [Rename] {
        try Self.storage(dataDirectory) {
            var renames: [Rename] = []
            for name in try fileSystem.contentsOfDirectory(dataDirectory).sorted() {
                guard let legacy = PartitionDirectory(legacyName: name), fileSystem.directoryExists(Path.join(dataDirectory, name)) else { continue }
                let target = fileSystem.directoryExists(Path.join(dataDirectory, legacy.name))
                    ? try freeName { PartitionDirectory.strayName(topic: legacy.topic, partition: legacy.partition, unique: $0) }
                    : legacy.name
                try PartitionMetadataFile.write(legacy.topicID, directory: Path.join(dataDirectory, name), fileSystem: fileSystem)
                try fileSystem.rename(from: Path.join(dataDirectory, name), to: Path.join(dataDirectory, target))
                try fileSystem.syncDirectory(dataDirectory)
                renames.append(Rename(from: name, to: target))
            }
            return renames
        }
    }

    /// Renames a directory the metadata does not name to `<topic>-<partition>.<unique>-stray`, durably,
    /// as KRaft brokers do: an operator decides what becomes of it.
    public func setAsideAsStray(_ partition: ExistingPartition) throws(LogError) -> Rename {
        try Self.storage(dataDirectory) {
            let target = try freeName { PartitionDirectory.strayName(topic: partition.topic, partition: partition.partition, unique: $0) }
            try fileSystem.rename(from: Path.join(dataDirectory, partition.name), to: Path.join(dataDirectory, target))
            try fileSystem.syncDirectory(dataDirectory)
            return Rename(from: partition.name, to: target)
        }
    }

    /// Finishes deletions a crash interrupted: directories already renamed `-delete` go.
    public func removeInterruptedDeletions() throws(LogError) -> [String] {
        try Self.storage(dataDirectory) {
            let names = try fileSystem.contentsOfDirectory(dataDirectory).filter(PartitionDirectory.isDeletedName)
            for name in names { try fileSystem.removeDirectory(Path.join(dataDirectory, name)) }
            if !names.isEmpty { try fileSystem.syncDirectory(dataDirectory) }
            return names
        }
    }

    /// Opens every partition log on disk that names its topic id (recovering each).
    public func openExisting(nowMs: Int64, config: (PartitionDirectory) -> LogConfig) throws(LogError) -> [PartitionDirectory: PartitionLog] {
        var opened: [PartitionDirectory: PartitionLog] = [:]
        for found in try existingPartitions() {
            guard let id = found.topicID else { continue }
            let partition = PartitionDirectory(topic: found.topic, partition: found.partition, topicID: id)
            opened[partition] = try openOrCreate(partition, config: config(partition), nowMs: nowMs)
        }
        return opened
    }

    /// The open log of `partition`, opening or creating it if needed. A new directory gets its
    /// `partition.metadata` before any segment and is made durable; an existing one must name the same
    /// topic id (a directory of another topic is never opened as this one). Opening happens under the
    /// manager's lock so that two callers never recover the same files at once. A log whose durable data
    /// is damaged throws `corrupt` and is not kept: each call scans it again.
    public func openOrCreate(_ partition: PartitionDirectory, config: LogConfig, nowMs: Int64) throws(LogError) -> PartitionLog {
        let directory = Path.join(dataDirectory, partition.name)
        return try logs.withLock { open throws(LogError) -> PartitionLog in
            if let existing = open[partition] { return existing }
            guard partition.name.utf8.count <= PartitionDirectory.nameBytesMax else {
                throw .storage(.io(operation: "name a partition directory of \(partition.name.utf8.count) bytes", path: directory, errno: 36))
            }
            try Self.storage(directory) {
                if !fileSystem.directoryExists(directory) {
                    try fileSystem.createDirectory(directory)
                    try PartitionMetadataFile.write(partition.topicID, directory: directory, fileSystem: fileSystem)
                    try fileSystem.syncDirectory(dataDirectory)
                } else {
                    switch try PartitionMetadataFile.read(directory: directory, fileSystem: fileSystem) {
                    case partition.topicID: break
                    case nil: try PartitionMetadataFile.write(partition.topicID, directory: directory, fileSystem: fileSystem)
                    case let other?:
                        throw StorageError.io(operation: "open the log of topic id \(partition.topicID.base64): partition.metadata names \(other.base64)",
                                              path: directory, errno: 0)
                    }
                }
            }
            let log = try PartitionLog.open(directory: directory, fileSystem: fileSystem, syncScheduler: syncScheduler, config: config,
                                            nowMs: nowMs, logger: logger)
            open[partition] = log
            return log
        }
    }

    public func log(for partition: PartitionDirectory) -> PartitionLog? {
        logs.withLock { $0[partition] }
    }

    public var openPartitions: [PartitionDirectory] { logs.withLock { Array($0.keys) } }

    /// Closes the log and removes its directory, durably and all or nothing: the directory is first
    /// renamed `<topic>-<partition>.<id>-delete` (which frees the name for a recreated topic at once),
    /// then removed; a removal a crash interrupted is finished at the next start.
    public func delete(_ partition: PartitionDirectory) throws(LogError) {
        let log = logs.withLock { $0.removeValue(forKey: partition) }
        log?.close()
        let directory = Path.join(dataDirectory, partition.name)
        try Self.storage(directory) {
            guard fileSystem.directoryExists(directory) else { return }
            if try PartitionMetadataFile.read(directory: directory, fileSystem: fileSystem).map({ $0 != partition.topicID }) == true {
                return  // another topic's directory by now: not ours to delete
            }
            let doomed = Path.join(dataDirectory, try freeName {
                PartitionDirectory.deletedName(topic: partition.topic, partition: partition.partition, unique: $0)
            })
            do {
                try fileSystem.rename(from: directory, to: doomed)
                try fileSystem.syncDirectory(dataDirectory)
                try fileSystem.removeDirectory(doomed)
            } catch where fileSystem.directoryExists(directory) {
                // A file system that cannot rename directories (the simulated one): removed in place.
                try fileSystem.removeDirectory(directory)
            }
            try fileSystem.syncDirectory(dataDirectory)
        }
    }

    /// Closes every open log (writing its checkpoints).
    public func closeAll() {
        let all = logs.withLock { open in
            let all = Array(open.values)
            open = [:]
            return all
        }
        for log in all { log.close() }
    }

    /// The first name `make` gives for a unique part not yet taken in the data directory. The unique
    /// part is a counter in 32 hex digits (Kafka uses a random UUID there): deterministic, and bounded.
    private func freeName(_ make: (String) -> String) throws -> String {
        for counter in 0..<UInt64(100_000) {
            let name = make(TopicUUID(high: 0, low: counter).hex)
            if !fileSystem.fileExists(Path.join(dataDirectory, name)) && !fileSystem.directoryExists(Path.join(dataDirectory, name)) {
                return name
            }
        }
        throw StorageError.alreadyExists(Path.join(dataDirectory, make("…")))
    }

    /// Runs file-system work, mapping whatever it throws to the log's storage error.
    private static func storage<T>(_ path: String, _ work: () throws -> T) throws(LogError) -> T {
        do {
            return try work()
        } catch let error as LogError {
            throw error
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "\(error)", path: path, errno: 0))
        }
    }
}
