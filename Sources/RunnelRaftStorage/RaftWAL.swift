import RunnelRaft
import RunnelStorage
import Synchronization

public struct RaftWALOptions: Hashable, Sendable {
    /// A segment is closed and a new one started once it reaches this size.
    public var segmentBytesMax: Int
    public init(segmentBytesMax: Int = 64 << 20) {
        precondition(segmentBytesMax > 0)
        self.segmentBytesMax = segmentBytesMax
    }
}

/// What `RaftWAL.open` found and repaired.
public struct RecoveryReport: Hashable, Sendable {
    /// A record cut short by a crash at the end of the last segment; the file was truncated there.
    public struct TornTail: Hashable, Sendable {
        public var path: String
        public var offset: Int64
        public var bytesDropped: Int64
    }
    public var segmentCount = 0
    public var recordCount = 0
    public var tornTail: TornTail?
    /// Leftovers of interrupted work: temporary files, snapshots no record names, superseded segments.
    public var removedFiles: [String] = []
}

/// Durable storage of one Raft node: a write-ahead log of CRC-32C-framed records in segment files, the
/// latest snapshot in its own file, and the directory's identity.
///
/// Contract with the driver: `save` the `Ready`'s snapshot, entries and hard state, `sync()` (one sync
/// covers every save before it — batching), and only then send the `Ready`'s messages.
///
/// Layout of the directory:
/// - `identity` — node id and directory id, written last by `format` (its presence means formatted);
/// - `wal-<seq>.log` — segments, replayed in order;
/// - `snapshot-<index>-<term>.snap` — the snapshot named by the last snapshot record.
///
/// Installing or taking a snapshot starts a new segment whose head is a checkpoint (hard state, snapshot
/// record, the entries kept after it), so once that is synced every older segment can go.
public final class RaftWAL {
    public let fileSystem: any FileSystem
    public let path: String
    public let identity: DirectoryIdentity
    public let options: RaftWALOptions
    /// The state read by `open` (or written by `format`), for `RaftNode.init`.
    public let recovered: PersistentState
    public let recoveryReport: RecoveryReport

    /// The state as written so far (synced or not).
    public private(set) var hardState: HardState
    public private(set) var snapshotMetadata: SnapshotMetadata
    public private(set) var entries: [Entry]
    /// The hard state as of the last successful `sync()`.
    public private(set) var durableHardState: HardState

    private var segmentSeqs: [UInt64]
    private var active: any StorageFile
    private var activeBytes: Int64
    /// Files written since the last sync, the active one last.
    private var dirtyFiles: [any StorageFile] = []
    private var directoryDirty = false
    /// Set by a checkpoint to its segment: after the next sync, older segments and snapshots are removed.
    private var cleanupBeforeSeq: UInt64?
    private var failure: StorageError?

    public var lastIndex: LogIndex { entries.last?.index ?? snapshotMetadata.index }

    /// The entry written at `index`; nil at or below the snapshot and beyond the end.
    public func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotMetadata.index, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - snapshotMetadata.index.rawValue - 1)]
    }

    /// The term of the entry at `index`, the snapshot's term at its index; nil elsewhere.
    public func term(at index: LogIndex) -> Term? {
        index == snapshotMetadata.index ? snapshotMetadata.term : entry(at: index)?.term
    }
    public var segmentCount: Int { segmentSeqs.count }
    /// Whether anything was saved since the last sync.
    public var hasUnsyncedWrites: Bool { !dirtyFiles.isEmpty || directoryDirty }

    private init(
        fileSystem: any FileSystem, path: String, identity: DirectoryIdentity, options: RaftWALOptions,
        recovered: PersistentState, report: RecoveryReport, segmentSeqs: [UInt64], active: any StorageFile,
        activeBytes: Int64
    ) {
        self.fileSystem = fileSystem
        self.path = path
        self.identity = identity
        self.options = options
        self.recovered = recovered
        self.recoveryReport = report
        self.hardState = recovered.hardState
        self.durableHardState = recovered.hardState
        self.snapshotMetadata = recovered.snapshot.metadata
        self.entries = recovered.entries
        self.segmentSeqs = segmentSeqs
        self.active = active
        self.activeBytes = activeBytes
    }

    deinit {
        active.close()
        for file in dirtyFiles { file.close() }
    }

    // MARK: Format and open

    /// Makes `path` a data directory for `identity` holding `initialState`, durably. Leftovers of an
    /// interrupted earlier format are removed first; a directory with an identity is refused.
    public static func format(
        fileSystem fs: any FileSystem, path: String, identity: DirectoryIdentity, initialState: PersistentState
    ) throws(RaftWALError) {
        try io {
            try fs.createDirectory(path)
            try fs.syncDirectory(Path.parent(of: path))
            if fs.fileExists(Path.join(path, DirectoryIdentity.fileName)) { throw RaftWALError.alreadyFormatted(path: path) }
            for name in try fs.contentsOfDirectory(path) where segmentSeq(name) != nil || SnapshotFile.parse(name: name) != nil {
                try fs.removeFile(Path.join(path, name))
            }
            let snapshot = initialState.snapshot
            try fs.writeAtomically(
                SnapshotFile.encode(snapshot),
                to: Path.join(path, SnapshotFile.name(index: snapshot.metadata.index, term: snapshot.metadata.term)))
            let segment = try fs.openFile(Path.join(path, segmentName(1)), options: [.create, .truncate])
            defer { segment.close() }
            var bytes: [UInt8] = []
            for record in checkpoint(initialState.hardState, snapshot.metadata, initialState.entries) {
                WALFrame.append(record, to: &bytes)
            }
            try segment.write(bytes, at: 0)
            try segment.sync()
            try fs.syncDirectory(path)
            try fs.writeAtomically(identity.encoded(), to: Path.join(path, DirectoryIdentity.fileName))
        }
    }

    /// Opens a formatted directory and recovers its state: every record up to the torn tail of the last
    /// segment (the file is truncated there), the snapshot the last snapshot record names, and the entries
    /// after it. A damaged record that is not the torn tail (in an earlier segment, or with an intact
    /// record anywhere after it: see `WALTailProbe`) stops recovery with `corruptRecord`, changing nothing.
    public static func open(
        fileSystem fs: any FileSystem, path: String, nodeID: NodeID, options: RaftWALOptions = RaftWALOptions()
    ) throws(RaftWALError) -> RaftWAL {
        try io { () throws -> RaftWAL in
            let identityPath = Path.join(path, DirectoryIdentity.fileName)
            guard fs.directoryExists(path), fs.fileExists(identityPath) else { throw RaftWALError.notFormatted(path: path) }
            let identityFile = try fs.openFile(identityPath, options: [])
            defer { identityFile.close() }
            guard let identity = DirectoryIdentity(decoding: try identityFile.readAll()) else {
                throw RaftWALError.badIdentity(path: path)
            }
            guard identity.nodeID == nodeID else { throw RaftWALError.identityMismatch(expected: nodeID, found: identity.nodeID) }

            var report = RecoveryReport()
            let names = try fs.contentsOfDirectory(path)
            for name in names where name.hasSuffix(".tmp") {
                try fs.removeFile(Path.join(path, name))
                report.removedFiles.append(name)
            }
            let seqs = names.compactMap(segmentSeq).sorted()
            guard let lastSeq = seqs.last else {
                throw RaftWALError.inconsistentLog(path: path, offset: 0, reason: "no segment")
            }
            var replay = LogReplay()
            var lastFile: (any StorageFile)?
            var lastBytes: Int64 = 0
            for seq in seqs {
                let segmentPath = Path.join(path, segmentName(seq))
                let file = try fs.openFile(segmentPath, options: [])
                let isLast = seq == lastSeq
                let end = try replaySegment(file, isLast: isLast, into: &replay, report: &report)
                if isLast { lastFile = file; lastBytes = end } else { file.close() }
            }
            report.segmentCount = seqs.count
            report.recordCount = replay.recordCount

            guard let marker = replay.snapshot else {
                throw RaftWALError.inconsistentLog(path: path, offset: 0, reason: "no snapshot record")
            }
            let snapshotName = SnapshotFile.name(index: marker.index, term: marker.term)
            let snapshotPath = Path.join(path, snapshotName)
            guard fs.fileExists(snapshotPath) else { throw RaftWALError.missingSnapshot(index: marker.index, term: marker.term) }
            let snapshotFile = try fs.openFile(snapshotPath, options: [])
            defer { snapshotFile.close() }
            guard let snapshot = SnapshotFile.decode(try snapshotFile.readAll()),
                snapshot.metadata.index == marker.index, snapshot.metadata.term == marker.term
            else { throw RaftWALError.missingSnapshot(index: marker.index, term: marker.term) }

            // Snapshots no record names: written before a crash that lost their record, or superseded.
            var removedAny = false
            for name in try fs.contentsOfDirectory(path) where SnapshotFile.parse(name: name) != nil && name != snapshotName {
                try fs.removeFile(Path.join(path, name))
                report.removedFiles.append(name)
                removedAny = true
            }
            if removedAny || !report.removedFiles.isEmpty { try fs.syncDirectory(path) }

            let state = PersistentState(hardState: replay.hardState, snapshot: snapshot, entries: replay.entries)
            return RaftWAL(
                fileSystem: fs, path: path, identity: identity, options: options, recovered: state, report: report,
                segmentSeqs: seqs, active: lastFile!, activeBytes: lastBytes)
        }
    }

    /// Opens `path`, formatting it first when it has no identity: a fresh directory id is drawn from
    /// `random` and `initialState` says what the new directory starts from.
    public static func openOrFormat<R: RandomNumberGenerator>(
        fileSystem fs: any FileSystem, path: String, nodeID: NodeID, random: inout R,
        initialState: (DirectoryID) -> PersistentState, options: RaftWALOptions = RaftWALOptions()
    ) throws(RaftWALError) -> RaftWAL {
        if !fs.fileExists(Path.join(path, DirectoryIdentity.fileName)) {
            let directoryID = DirectoryID.random(using: &random)
            try format(
                fileSystem: fs, path: path, identity: DirectoryIdentity(nodeID: nodeID, directoryID: directoryID),
                initialState: initialState(directoryID))
        }
        return try open(fileSystem: fs, path: path, nodeID: nodeID, options: options)
    }

    /// Replays one segment; returns the offset where its valid records end.
    private static func replaySegment(
        _ file: any StorageFile, isLast: Bool, into replay: inout LogReplay, report: inout RecoveryReport
    ) throws -> Int64 {
        let bytes = try file.readAll()
        var offset = 0
        while offset < bytes.count {
            switch WALFrame.decode(bytes, at: offset) {
            case .record(let record, let end):
                if let reason = replay.apply(record) {
                    throw RaftWALError.inconsistentLog(path: file.path, offset: Int64(offset), reason: reason)
                }
                offset = end
            case .incomplete where isLast, .checksumMismatch where isLast:
                // Only damage with nothing intact after it is a torn write; an intact record after it means
                // the damage is in the middle, among records that may have been synced and acknowledged.
                switch WALTailProbe.probe(bytes, after: offset) {
                case .nothingIntact:
                    return try truncateTornTail(file, at: offset, size: bytes.count, report: &report)
                case .intactFrame(let at):
                    throw RaftWALError.corruptRecord(
                        path: file.path, offset: Int64(offset), recordsBefore: replay.recordCount,
                        reason: "damaged record before an intact one at offset \(at)")
                case .undecided(let at):
                    throw RaftWALError.corruptRecord(
                        path: file.path, offset: Int64(offset), recordsBefore: replay.recordCount,
                        reason: "damaged record; no torn tail could be told apart by offset \(at)")
                }
            case .incomplete, .checksumMismatch:
                throw RaftWALError.corruptRecord(
                    path: file.path, offset: Int64(offset), recordsBefore: replay.recordCount,
                    reason: "damaged record in a segment that is not the last")
            case .malformed(let reason):
                throw RaftWALError.corruptRecord(
                    path: file.path, offset: Int64(offset), recordsBefore: replay.recordCount, reason: reason)
            }
        }
        return Int64(offset)
    }

    private static func truncateTornTail(
        _ file: any StorageFile, at offset: Int, size: Int, report: inout RecoveryReport
    ) throws -> Int64 {
        try file.truncate(to: Int64(offset))
        try file.sync()
        report.tornTail = RecoveryReport.TornTail(path: file.path, offset: Int64(offset), bytesDropped: Int64(size - offset))
        return Int64(offset)
    }

    // MARK: Writing

    /// Writes a `Ready`'s snapshot, entries and hard state, in that order. Not durable until `sync()`.
    public func save(_ ready: Ready) throws(RaftWALError) {
        try save(hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot)
    }

    /// Writes, in order: the snapshot (to its own file, then a new segment starting with a checkpoint),
    /// the entries (first removing any suffix they replace), the hard state. Not durable until `sync()`.
    public func save(hardState newHardState: HardState?, entries newEntries: [Entry], snapshot: Snapshot?) throws(RaftWALError) {
        if let failure { throw .failed(failure) }
        // A snapshot no newer than the one held changes nothing.
        let snapshot = snapshot.flatMap { $0.metadata.index > snapshotMetadata.index ? $0 : nil }
        if let first = newEntries.first {
            // Validate before writing anything, so a refused call leaves the log untouched.
            let base = snapshot.map { $0.metadata.index } ?? snapshotMetadata.index
            let last = snapshot == nil ? lastIndex : base
            guard first.index > base, first.index <= last.next else {
                throw .nonContiguousEntries(expected: last.next, got: first.index)
            }
            for (offset, entry) in newEntries.enumerated() where entry.index != first.index.advanced(by: UInt64(offset)) {
                throw .nonContiguousEntries(expected: first.index.advanced(by: UInt64(offset)), got: entry.index)
            }
        }
        if let snapshot {
            try writeSnapshotFile(snapshot)
            snapshotMetadata = snapshot.metadata
            entries = []
            try startSegment(checkpoint: true)
        } else if activeBytes >= Int64(options.segmentBytesMax) {
            try startSegment(checkpoint: false)
        }
        var records: [WALRecord] = []
        if let first = newEntries.first {
            if first.index <= lastIndex {
                records.append(.truncate(from: first.index))
                entries.removeLast(Int(lastIndex.rawValue - first.index.rawValue + 1))
            }
            records.append(contentsOf: newEntries.map(WALRecord.entry))
            entries.append(contentsOf: newEntries)
        }
        if let newHardState {
            records.append(.hardState(newHardState))
            hardState = newHardState
        }
        try append(records)
    }

    /// What one sync must make durable: the files written since the last one, and the state they hold.
    public struct PendingSync: Sendable {
        public let files: [any StorageFile]
        let hardState: HardState
        let directoryDirty: Bool
        let cleanupBeforeSeq: UInt64?
    }

    /// Makes everything saved so far durable: the files written, then the directory when a segment was
    /// created. A failure is final. After a checkpoint, older segments and snapshots are then removed.
    public func sync() throws(RaftWALError) {
        let pending = try prepareSync()
        var result: Result<Void, StorageError> = .success(())
        for file in pending.files {
            do { try file.sync() } catch let error as StorageError {
                result = .failure(error)
                break
            } catch {
                preconditionFailure("FileSystem threw a non-StorageError: \(error)")
            }
        }
        try finishSync(pending, result: result)
    }

    /// Group commit, first half: takes what the next sync must cover. Saves made after this belong to
    /// the sync after it. Hand the files to a `SyncScheduling` (`Self.sync(_:using:completion:)`) and, once
    /// it completed, call `finishSync` on the thread that owns this WAL.
    public func prepareSync() throws(RaftWALError) -> PendingSync {
        if let failure { throw .failed(failure) }
        let pending = PendingSync(files: dirtyFiles, hardState: hardState, directoryDirty: directoryDirty,
                                  cleanupBeforeSeq: cleanupBeforeSeq)
        dirtyFiles = []
        directoryDirty = false
        cleanupBeforeSeq = nil
        return pending
    }

    /// Group commit, second half: records the outcome of syncing `pending.files`. Only after this returns
    /// is `durableHardState` (and what it promises) durable: messages that depend on it may leave.
    public func finishSync(_ pending: PendingSync, result: Result<Void, StorageError>) throws(RaftWALError) {
        if let failure { throw .failed(failure) }
        do {
            try result.get()
            if pending.directoryDirty { try fileSystem.syncDirectory(path) }
        } catch let error as StorageError {
            failure = error
            throw .storage(error)
        } catch {
            preconditionFailure("FileSystem threw a non-StorageError: \(error)")
        }
        for file in pending.files where file !== active && !dirtyFiles.contains(where: { $0 === file }) { file.close() }
        durableHardState = pending.hardState
        if let checkpointSeq = pending.cleanupBeforeSeq {
            try Self.io { try removeSuperseded(before: checkpointSeq) }
        }
    }

    /// Syncs `pending.files` through the shared fsync scheduler (one pass may serve this WAL and every
    /// partition log at once) and reports the first failure, or success once all are durable.
    public static func sync(
        _ pending: PendingSync, using scheduler: any SyncScheduling,
        completion: @escaping @Sendable (Result<Void, StorageError>) -> Void
    ) {
        guard !pending.files.isEmpty else { return completion(.success(())) }
        let outstanding = Mutex((left: pending.files.count, failed: false))
        for file in pending.files {
            scheduler.sync(file) { result in
                let report: Result<Void, StorageError>? = outstanding.withLock { state in
                    guard !state.failed else { return nil }
                    if case .failure = result {
                        state.failed = true
                        return result
                    }
                    state.left -= 1
                    return state.left == 0 ? .success(()) : nil
                }
                if let report { completion(report) }
            }
        }
    }

    /// Replaces the log through `snapshot.metadata.index` with `snapshot` (taken by the application from
    /// its state machine), keeping the later entries, and syncs. Older segments are then removed.
    public func compact(to snapshot: Snapshot) throws(RaftWALError) {
        if let failure { throw .failed(failure) }
        let index = snapshot.metadata.index
        guard index > snapshotMetadata.index else { return }
        guard index <= lastIndex else { throw .nonContiguousEntries(expected: lastIndex, got: index) }
        precondition(term(at: index) == snapshot.metadata.term, "a snapshot must end at an entry of this log")
        try writeSnapshotFile(snapshot)
        entries.removeFirst(Int(index.rawValue - snapshotMetadata.index.rawValue))
        snapshotMetadata = snapshot.metadata
        try startSegment(checkpoint: true)
        try sync()
    }

    // MARK: Internals

    private static func checkpoint(_ hardState: HardState, _ snapshot: SnapshotMetadata, _ entries: [Entry]) -> [WALRecord] {
        [.hardState(hardState), .snapshot(index: snapshot.index, term: snapshot.term)] + entries.map(WALRecord.entry)
    }

    private func writeSnapshotFile(_ snapshot: Snapshot) throws(RaftWALError) {
        let name = SnapshotFile.name(index: snapshot.metadata.index, term: snapshot.metadata.term)
        try guarded { try fileSystem.writeAtomically(SnapshotFile.encode(snapshot), to: Path.join(path, name)) }
    }

    private func startSegment(checkpoint withCheckpoint: Bool) throws(RaftWALError) {
        let seq = segmentSeqs.last! + 1
        let file = try guarded { try fileSystem.openFile(Path.join(path, Self.segmentName(seq)), options: [.create, .truncate]) }
        if !dirtyFiles.contains(where: { $0 === active }) { active.close() }
        active = file
        activeBytes = 0
        segmentSeqs.append(seq)
        directoryDirty = true
        if withCheckpoint {
            cleanupBeforeSeq = seq
            try append(Self.checkpoint(hardState, snapshotMetadata, entries))
        }
    }

    private func append(_ records: [WALRecord]) throws(RaftWALError) {
        guard !records.isEmpty else { return }
        var bytes: [UInt8] = []
        for record in records { WALFrame.append(record, to: &bytes) }
        try guarded { try active.write(bytes, at: activeBytes) }
        activeBytes += Int64(bytes.count)
        if !dirtyFiles.contains(where: { $0 === active }) { dirtyFiles.append(active) }
    }

    /// Removes segments before the checkpoint segment `checkpointSeq` (later ones may have been started
    /// since, by size) and snapshot files other than the current one.
    private func removeSuperseded(before checkpointSeq: UInt64) throws {
        let current = SnapshotFile.name(index: snapshotMetadata.index, term: snapshotMetadata.term)
        var removed = false
        // Newest first: if only some removals reach the disk, what is left of the old segments is still a
        // prefix of the log (replayable from its first record), never a middle without its beginning.
        for name in try fileSystem.contentsOfDirectory(path).reversed() {
            let stale: Bool
            if let seq = Self.segmentSeq(name) { stale = seq < checkpointSeq } else if SnapshotFile.parse(name: name) != nil {
                stale = name != current
            } else { stale = false }
            if stale {
                try fileSystem.removeFile(Path.join(path, name))
                removed = true
            }
        }
        segmentSeqs.removeAll { $0 < checkpointSeq }
        if removed { try fileSystem.syncDirectory(path) }
    }

    /// A write error poisons the log like a sync error: what reached the file is unknown.
    private func guarded<T>(_ body: () throws -> T) throws(RaftWALError) -> T {
        do { return try Self.io(body) } catch {
            if case .storage(let storage) = error { failure = storage }
            throw error
        }
    }

    static func io<T>(_ body: () throws -> T) throws(RaftWALError) -> T {
        do { return try body() } catch let error as RaftWALError { throw error } catch let error as StorageError {
            throw .storage(error)
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
    }

    static func segmentName(_ seq: UInt64) -> String { "wal-\(hex16(seq)).log" }

    static func segmentSeq(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        let digits = name.dropFirst(4).dropLast(4)
        guard digits.count == 16 else { return nil }
        return UInt64(digits, radix: 16)
    }
}
