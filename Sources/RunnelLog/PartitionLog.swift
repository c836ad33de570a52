import Logging
import NIOCore
import RunnelStorage
import Synchronization

/// The log of one partition: segments of record batches in one directory, with indexes, checkpoints,
/// crash recovery, retention and the durable log end offset.
///
/// Offsets: `logStartOffset` ≤ `highWatermark` ≤ `flushedOffset` ≤ `logEndOffset`. The log end offset
/// moves on append; `flushedOffset` only when a sync of the appended bytes completes through the
/// `SyncScheduling` given at open (group commit across partitions happens there); the high watermark
/// only when the caller sets it. Thread-safe: one lock per partition; completions run outside it.
/// Time comes from the caller (`nowMs`); nothing here reads a clock.
public final class PartitionLog: Sendable {
    public let directory: String
    private let state: Mutex<LogState>
    private let syncScheduler: any SyncScheduling
    private let allocator = ByteBufferAllocator()
    /// Set while a cleaning pass runs: passes of one log never overlap.
    private let cleaning = Atomic<Bool>(false)

    /// What opening found and repaired.
    public let recoveryReport: LogRecoveryReport

    private init(directory: String, state: LogState, syncScheduler: any SyncScheduling, recoveryReport: LogRecoveryReport) {
        self.directory = directory
        self.state = Mutex(state)
        self.syncScheduler = syncScheduler
        self.recoveryReport = recoveryReport
    }

    /// Opens the log in `directory`, creating it if missing and recovering it otherwise. A torn tail cut
    /// off is logged as a warning; damage in durable data is logged as an error and thrown as `corrupt`
    /// (the log is then not opened, and nothing was cut).
    public static func open(directory: String, fileSystem: any FileSystem, syncScheduler: any SyncScheduling,
                            config: LogConfig, nowMs: Int64, logger: Logger = Logger(label: "runnel.log")) throws(LogError)
        -> PartitionLog
    {
        do {
            var (state, report) = try LogState.open(directory: directory, fileSystem: fileSystem, config: config, nowMs: nowMs)
            state.takeRemovedFiles().release()  // what recovery removed; no one waits on the lock yet
            if let torn = report.tornTail {
                logger.warning("recovery cut the torn tail of \(torn.path) above the recovery point, at byte \(torn.position) (\(torn.bytesDropped) bytes): \(torn.reason)")
            }
            return PartitionLog(directory: directory, state: state, syncScheduler: syncScheduler, recoveryReport: report)
        } catch let error as LogError {
            if case .corrupt(let corruption) = error {
                logger.error("\(corruption); the log was not opened and nothing was cut: the partition stays offline until the segment is repaired")
            }
            throw error
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "open log: \(error)", path: directory, errno: 0))
        }
    }

    // MARK: Offsets

    public var offsets: LogOffsets { state.withLock { $0.offsets } }
    public var logStartOffset: Int64 { offsets.logStartOffset }
    public var logEndOffset: Int64 { offsets.logEndOffset }
    public var highWatermark: Int64 { offsets.highWatermark }
    public var flushedOffset: Int64 { offsets.flushedOffset }
    /// The disk error that stopped this log, if any.
    public var failure: StorageError? { state.withLock { $0.failure } }
    public var config: LogConfig { state.withLock { $0.config } }
    /// Base offsets of the segments, oldest first.
    public var segmentBaseOffsets: [Int64] { state.withLock { $0.segments.map(\.baseOffset) } }
    /// Idempotent producers' epochs and last batches on this partition.
    public var producerState: ProducerStateTable { state.withLock { $0.producers } }
    public var sizeBytes: Int64 { state.withLock { $0.segments.reduce(0) { $0 + $1.sizeBytes } } }

    /// Changes retention, rolling and index settings for what follows (a dynamic topic config).
    public func updateConfig(_ config: LogConfig) {
        state.withLock { $0.config = config }
    }

    // MARK: Appending

    /// Appends whole v2 batches as the leader: assigns consecutive offsets from the log end offset and
    /// stamps `leaderEpoch` (both outside the CRC), writes the buffer with one write, indexes it and
    /// requests a sync. Batches of idempotent producers are checked first, under the same lock: a retry
    /// of a batch in the log appends nothing and returns the original offsets (`isDuplicate`); a
    /// sequence gap throws `outOfOrderSequence`, an older producer epoch `invalidProducerEpoch`. The log end offset moves now; `flushedOffset` when the sync completes.
    /// With `logAppendTimeMs` (LogAppendTime topics) each batch's max timestamp becomes that time.
    @discardableResult
    public func appendAsLeader(_ batches: ByteBuffer, leaderEpoch: Int32, logAppendTimeMs: Int64? = nil, nowMs: Int64) throws(LogError)
        -> LogAppendInfo
    {
        try append(batches, assignment: .leader(epoch: leaderEpoch, logAppendTimeMs: logAppendTimeMs), nowMs: nowMs)
    }

    /// Appends batches fetched from the leader, keeping their offsets and epochs; they must start at or
    /// after the log end offset and increase.
    @discardableResult
    public func appendAsFollower(_ batches: ByteBuffer, nowMs: Int64) throws(LogError) -> LogAppendInfo {
        try append(batches, assignment: .follower, nowMs: nowMs)
    }

    private func append(_ batches: ByteBuffer, assignment: OffsetAssignment, nowMs: Int64) throws(LogError) -> LogAppendInfo {
        let (info, request) = try locked { s throws(LogError) in
            try s.guarded { s in try s.append(batches, assignment: assignment, nowMs: nowMs) }
        }
        issue(request)
        return info
    }

    private func issue(_ request: SyncRequest) {
        for file in request.files {
            syncScheduler.sync(file) { [self] result in
                locked { s in s.completeSync(id: request.id, result: result) }
            }
        }
    }

    // MARK: Durability

    /// Calls `completion` once `flushedOffset` ≥ `offset` (at once if already so), or with the error that
    /// makes it impossible: a failed sync, truncation below `offset`, a full queue of waiters, closing.
    /// The broker answers acks=all (on one node) only from here: never before the fsync.
    /// If no requested sync will reach `offset` (the scheduler refused one), a new sync is requested.
    public func whenFlushed(to offset: Int64, _ completion: @escaping FlushCompletion) {
        let request: SyncRequest? = locked { s in
            if s.isClosed {
                s.outbox.append(FlushNotification(completion: completion, result: .failure(.closed)))
                return nil
            }
            guard offset <= s.logEndOffset else {
                s.outbox.append(FlushNotification(completion: completion, result: .failure(
                    .offsetOutOfRange(offset: offset, logStartOffset: s.logStartOffset, logEndOffset: s.logEndOffset))))
                return nil
            }
            let due = s.flush.wait(until: offset, completion: completion)
            s.outbox += due
            guard due.isEmpty, s.failure == nil, !s.hasPendingFlush(reaching: offset) else { return nil }
            return s.requestFlush()
        }
        if let request { issue(request) }
    }

    /// Returns once `flushedOffset` ≥ `offset`; throws what `whenFlushed` would report.
    public func waitUntilFlushed(to offset: Int64) async throws(LogError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, LogError>, Never>) in
            whenFlushed(to: offset) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Sets the high watermark. It must not pass the durable log end offset and must not move back
    /// (only truncation lowers it): both are stopped loudly, in release builds too.
    public func updateHighWatermark(_ offset: Int64) {
        state.withLock { $0.updateHighWatermark(offset) }
    }

    /// The forgiving form for followers (and a leader that recomputes): the high watermark becomes
    /// min(`offset`, `flushedOffset`) if that is higher than now; otherwise nothing changes.
    /// Returns whether it moved.
    @discardableResult
    public func advanceHighWatermark(toAtMost offset: Int64) -> Bool {
        state.withLock { $0.advanceHighWatermark(toAtMost: offset) }
    }

    /// Writes the high-watermark and recovery-point checkpoints if they changed. Call periodically
    /// (Kafka: every 5 s) and before a clean stop.
    public func writeCheckpoints() throws(LogError) {
        try locked { s throws(LogError) in try s.guarded { s in try s.writeCheckpoints() } }
    }

    // MARK: Reading

    /// Whole batches from the one holding `offset`, below `limitOffset` (the high watermark for consumers,
    /// the log end offset for followers), about `maxBytes` in all: the first batch comes whole even when
    /// larger if `minOneBatch` (Kafka's rule, so a consumer is never stuck). Reads stay in one segment.
    public func read(from offset: Int64, maxBytes: Int, upTo limitOffset: Int64, minOneBatch: Bool = true) throws(LogError)
        -> LogReadResult
    {
        try locked { s throws(LogError) in
            try s.guarded { s in
                guard let plan = try s.planRead(from: offset, maxBytes: maxBytes, limitOffset: limitOffset, minOneBatch: minOneBatch) else {
                    return LogReadResult(records: allocator.buffer(capacity: 0), firstBatchOffset: nil, offsets: s.offsets)
                }
                let bytes = try s.segments[plan.segmentIndex].read(position: plan.position, length: plan.length, allocator: allocator)
                return LogReadResult(records: bytes, firstBatchOffset: plan.firstBatchOffset, offsets: s.offsets)
            }
        }
    }

    /// As `read`, but names the bytes in the segment file instead of copying them (for sendfile).
    public func readSlice(from offset: Int64, maxBytes: Int, upTo limitOffset: Int64, minOneBatch: Bool = true) throws(LogError)
        -> LogSliceReadResult
    {
        try locked { s throws(LogError) in
            try s.guarded { s in
                let plan = try s.planRead(from: offset, maxBytes: maxBytes, limitOffset: limitOffset, minOneBatch: minOneBatch)
                let slice = plan.map { FileSlice(file: s.segments[$0.segmentIndex].log, position: $0.position, length: $0.length) }
                return LogSliceReadResult(slice: slice, firstBatchOffset: plan?.firstBatchOffset, offsets: s.offsets)
            }
        }
    }

    /// The first batch (at or after the log start offset) whose max timestamp is ≥ `timestamp`; nil when
    /// every batch is older. The broker decodes it to find the exact record.
    public func offsetForTimestamp(_ timestamp: Int64) throws(LogError) -> TimestampedBatch? {
        try locked { s throws(LogError) in try s.guarded { s in try s.offsetForTimestamp(timestamp) } }
    }

    /// The batch holding the log's largest timestamp (ListOffsets' MAX_TIMESTAMP); nil without timestamps.
    public func offsetForMaxTimestamp() throws(LogError) -> TimestampedBatch? {
        try locked { s throws(LogError) in try s.guarded { s in try s.offsetForMaxTimestamp() } }
    }

    // MARK: Leader epochs

    /// Records that `epoch` starts at `startOffset` (a new leader: the log end offset). Durable on return.
    public func assignEpochStart(epoch: Int32, startOffset: Int64) throws(LogError) {
        try locked { s throws(LogError) in
            try s.guarded { s in
                if s.epochs.assign(epoch: epoch, startOffset: startOffset) { try s.writeEpochCheckpoint() }
            }
        }
    }

    /// OffsetForLeaderEpoch: where `epoch` ended in this log, with the largest epoch at or below it.
    public func endOffset(forEpoch epoch: Int32) -> EpochEndOffset {
        state.withLock { $0.epochs.endOffset(forEpoch: epoch, logEndOffset: $0.logEndOffset) }
    }

    public var epochEntries: [EpochEntry] { state.withLock { $0.epochs.entries } }
    public var latestEpoch: Int32? { state.withLock { $0.epochs.latest?.epoch } }

    // MARK: Truncation and retention

    /// Drops the batch holding `offset` and all after it; durable on return. Lowers the high watermark and
    /// `flushedOffset` to the new end and fails flush waits beyond it. Returns the new log end offset.
    @discardableResult
    public func truncate(to offset: Int64, nowMs: Int64) throws(LogError) -> Int64 {
        try locked { s throws(LogError) in try s.guarded { s in try s.truncate(to: offset, nowMs: nowMs) } }
    }

    /// Empties the log and starts it at `offset` (a follower behind the leader's log start offset).
    public func truncateFully(startingAt offset: Int64, nowMs: Int64) throws(LogError) {
        try locked { s throws(LogError) in try s.guarded { s in try s.restart(at: offset, nowMs: nowMs) } }
    }

    /// DeleteRecords: moves the log start offset up to `offset` (at most the high watermark), durably,
    /// and deletes segments wholly below it. Returns the log start offset.
    @discardableResult
    public func deleteRecords(before offset: Int64) throws(LogError) -> Int64 {
        try locked { s throws(LogError) in try s.guarded { s in try s.deleteRecords(before: offset) } }
    }

    /// Deletes old segments by retention time and size and by the log start offset.
    @discardableResult
    public func applyRetention(nowMs: Int64) throws(LogError) -> RetentionOutcome {
        try locked { s throws(LogError) in try s.guarded { s in try s.deleteOldSegments(nowMs: nowMs) } }
    }

    /// One log-compaction pass when the config's cleanup policy includes compact: keeps the latest record
    /// per key in the inactive segments below the high watermark, never moving an offset; removes
    /// tombstones older than delete.retention.ms. Bounded by `limits`; the caller runs passes
    /// periodically. Crash-safe (see SegmentSwap). The segments are read and the cleaned copies written
    /// outside the partition lock; it is held only to take the snapshot and for each swap, so reads and
    /// appends go on meanwhile. A second call while one runs returns at once. Disk errors while writing
    /// the copies fail the pass, not the log; an error during a swap stops the log as any write error does.
    @discardableResult
    public func clean(nowMs: Int64, limits: CleanerLimits = CleanerLimits()) throws(LogError) -> CleanerOutcome {
        var outcome = CleanerOutcome()
        guard !cleaning.exchange(true, ordering: .acquiring) else { return outcome }
        defer { cleaning.store(false, ordering: .releasing) }
        guard let snapshot = try locked({ s throws(LogError) in try s.guarded { s in try s.cleanerSnapshot(nowMs: nowMs) } }) else {
            return outcome
        }
        outcome.ran = true
        outcome.firstDirtyOffset = snapshot.range.firstDirtyOffset
        do {
            let build = try CleanerIO.buildOffsetMap(snapshot, limits: limits)
            let (map, mapEnd) = (build.map, build.mapEnd)
            outcome.dirtyBytesRead = build.bytesRead
            outcome.batchesSkipped = build.batchesSkipped
            let rules = CompactionRules(firstDirtyOffset: snapshot.range.firstDirtyOffset, mapEndOffset: mapEnd, nowMs: nowMs,
                                        deleteRetentionMs: snapshot.config.deleteRetentionMs)
            for group in CleaningPlan.groups(snapshot.inactive, mapEndOffset: mapEnd, segmentBytesMax: snapshot.config.segmentBytesMax) {
                guard let cleaned = try CleanerIO.writeCleaned(snapshot, group, map: map, rules: rules, limits: limits, nowMs: nowMs) else {
                    continue
                }
                let committed = try locked { s throws(LogError) in
                    try s.guarded { s in try s.commitCleaned(cleaned, snapshotGeneration: snapshot.generation, nowMs: nowMs) }
                }
                guard committed else { return outcome }  // the log changed under the pass: the next one starts afresh
                outcome.segmentsRewritten += group.count
                outcome.bytesBefore += cleaned.oldBytes
                outcome.bytesAfter += cleaned.cleanedBytes
                outcome.recordsRemoved += cleaned.removedRecords
            }
            try locked { s throws(LogError) in
                try s.guarded { s in try s.finishCleaning(cleanedUpTo: mapEnd, snapshotGeneration: snapshot.generation) }
            }
            outcome.cleanedUpTo = mapEnd
            return outcome
        } catch let error as LogError {
            throw error
        } catch StorageError.closed {
            return outcome  // the log closed, or removed a segment the pass was reading: abandon the pass
        } catch let error as StorageError {
            throw .storage(error)
        } catch {
            throw .storage(.io(operation: "clean: \(error)", path: directory, errno: 0))
        }
    }

    /// The first offset the cleaner has not compacted (nil before the first pass).
    public var cleanerCheckpoint: Int64? {
        state.withLock { try? $0.readCleanerCheckpoint() } ?? nil
    }

    /// Writes the checkpoints and closes the files (once no requested sync still names them). Waits
    /// still pending fail with `closed`.
    public func close() {
        locked { s in s.close() }
    }

    // MARK: Locking

    /// Runs `body` under the lock, then, outside it, delivers the completions it made due and closes and
    /// unlinks the files of the segments it removed.
    private func locked<T, E: Error>(_ body: (inout LogState) throws(E) -> T) throws(E) -> T {
        let (result, due, removed): (Result<T, E>, [FlushNotification], LogState.RemovedFiles) = state.withLock { s in
            let result: Result<T, E>
            do throws(E) { result = .success(try body(&s)) } catch { result = .failure(error) }
            let due = s.outbox
            s.outbox = []
            return (result, due, s.takeRemovedFiles())
        }
        for notification in due { notification.deliver() }
        removed.release()
        return try result.get()
    }
}
