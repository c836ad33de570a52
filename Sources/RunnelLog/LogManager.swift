import Logging
import RunnelStorage
import Synchronization

/// All partition logs under one data directory: lists and opens what exists at start, creates and
/// deletes logs. Deleting removes the partition's directory.
public final class LogManager: Sendable {
    public let dataDirectory: String
    private let fileSystem: any FileSystem
    private let syncScheduler: any SyncScheduling
    private let logs = Mutex<[PartitionDirectory: PartitionLog]>([:])
    /// Where recovery reports what it cut and the corruption it refused to cut.
    private let logger: Logger

    public init(dataDirectory: String, fileSystem: any FileSystem, syncScheduler: any SyncScheduling,
                logger: Logger = Logger(label: "runnel.log")) throws(LogError) {
        self.logger = logger
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
        self.syncScheduler = syncScheduler
        do {
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
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "\(error)", path: dataDirectory, errno: 0))
        }
    }

    /// Partition directories present on disk (other names are ignored).
    public func existingPartitions() throws(LogError) -> [PartitionDirectory] {
        do {
            return try fileSystem.contentsOfDirectory(dataDirectory).compactMap { name in
                fileSystem.directoryExists(Path.join(dataDirectory, name)) ? PartitionDirectory(name: name) : nil
            }
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "\(error)", path: dataDirectory, errno: 0))
        }
    }

    /// Opens every partition log on disk (recovering each). `config` gives each partition's settings.
    public func openExisting(nowMs: Int64, config: (PartitionDirectory) -> LogConfig) throws(LogError) -> [PartitionDirectory: PartitionLog] {
        var opened: [PartitionDirectory: PartitionLog] = [:]
        for partition in try existingPartitions() {
            opened[partition] = try openOrCreate(partition, config: config(partition), nowMs: nowMs)
        }
        return opened
    }

    /// The open log of `partition`, opening or creating it if needed (a new directory is made durable).
    /// Opening happens under the manager's lock so that two callers never recover the same files at once.
    /// A log whose durable data is damaged throws `corrupt` and is not kept: each call scans it again.
    public func openOrCreate(_ partition: PartitionDirectory, config: LogConfig, nowMs: Int64) throws(LogError) -> PartitionLog {
        try logs.withLock { open throws(LogError) -> PartitionLog in
            if let existing = open[partition] { return existing }
            let log = try PartitionLog.open(directory: Path.join(dataDirectory, partition.name), fileSystem: fileSystem,
                                            syncScheduler: syncScheduler, config: config, nowMs: nowMs, logger: logger)
            open[partition] = log
            return log
        }
    }

    public func log(for partition: PartitionDirectory) -> PartitionLog? {
        logs.withLock { $0[partition] }
    }

    public var openPartitions: [PartitionDirectory] { logs.withLock { Array($0.keys) } }

    /// Closes the log and removes its directory, durably.
    public func delete(_ partition: PartitionDirectory) throws(LogError) {
        let log = logs.withLock { $0.removeValue(forKey: partition) }
        log?.close()
        let directory = Path.join(dataDirectory, partition.name)
        do {
            if fileSystem.directoryExists(directory) { try fileSystem.removeDirectory(directory) }
            try fileSystem.syncDirectory(dataDirectory)
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "\(error)", path: directory, errno: 0))
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
}
