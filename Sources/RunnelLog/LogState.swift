import NIOCore
import RunnelRecords
import RunnelStorage

/// A sync handed to the scheduler: the durable LEO reaches `targetOffset` when all its files are synced.
struct PendingFlush {
    var targetOffset: Int64
    var remaining: Int
    /// Truncation bumps the log's generation; a sync requested before it proves nothing after it.
    var generation: UInt64
    var refusal: StorageError?
}

/// What the owner must hand to the scheduler after releasing its lock (a scheduler may complete at once).
struct SyncRequest {
    let id: UInt64
    let files: [any StorageFile]
}

/// How an append gets its offsets.
enum OffsetAssignment {
    /// The leader assigns consecutive offsets from the log end offset and stamps its epoch (and, for
    /// LogAppendTime topics, the append time).
    case leader(epoch: Int32, logAppendTimeMs: Int64?)
    /// A follower keeps the leader's offsets; they must continue the log.
    case follower
}

/// Everything a partition log holds, owned by `PartitionLog` under its lock. Mutations that fail on the
/// disk leave `failure` set: the log then refuses everything (no retry after a failed write or fsync).
struct LogState {
    let directory: String
    let fileSystem: any FileSystem
    var config: LogConfig
    /// Sorted by base offset; never empty; the last one is active.
    var segments: [LogSegment]
    var logStartOffset: Int64
    var highWatermark: Int64
    var epochs: LeaderEpochCache
    /// Idempotent producers' epochs and last batches, from the batches in the log.
    var producers = ProducerStateTable()
    var flush: FlushTracker
    var pendingFlushes: [UInt64: PendingFlush] = [:]
    var nextFlushID: UInt64 = 0
    var generation: UInt64 = 0
    /// Files of removed segments, closed once no requested sync can still name them (a sync of a closed
    /// file would fail the whole group-commit pass).
    var retiredFiles: [any StorageFile] = []
    var failure: StorageError?
    var isClosed = false
    var checkpointedHighWatermark: Int64?
    var checkpointedRecoveryPoint: Int64?
    /// Completions made due under the lock, delivered by the owner after releasing it.
    var outbox: [FlushNotification] = []
    /// Removed segments' handles to close and their files (renamed to `.deleted`) to unlink: the owner
    /// does both after releasing the lock, because freeing a large file's blocks (at the unlink or at the
    /// last close, whichever comes last) takes tens of milliseconds that appends must not wait for.
    var releasedFiles: [any StorageFile] = []
    var doomedPaths: [String] = []

    var active: LogSegment { segments[segments.count - 1] }
    var logEndOffset: Int64 { active.nextOffset }
    /// Everything below this offset is durable: recovery trusts segments wholly below it and treats damage
    /// below it as corruption, never as a torn write. Checkpointed periodically, so the file lags (a lower
    /// bound is always safe); lowered durably before any truncation takes data below it away.
    var recoveryPoint: Int64 { flush.flushedOffset }

    var offsets: LogOffsets {
        LogOffsets(logStartOffset: logStartOffset, highWatermark: highWatermark,
                   flushedOffset: flush.flushedOffset, logEndOffset: logEndOffset)
    }

    func path(_ name: String) -> String { Path.join(directory, name) }

    // MARK: Failure handling

    /// Runs a mutation; a disk error makes the log stop for good and fails everyone waiting.
    mutating func guarded<T>(_ body: (inout LogState) throws -> T) throws(LogError) -> T {
        if isClosed { throw .closed }
        if let failure { throw .storage(failure) }
        do {
            return try body(&self)
        } catch let error as LogError {
            throw error
        } catch let error as StorageError {
            fail(error)
            throw .storage(error)
        } catch {
            let storage = StorageError.io(operation: "\(error)", path: directory, errno: 0)
            fail(storage)
            throw .storage(storage)
        }
    }

    mutating func fail(_ error: StorageError) {
        if failure == nil { failure = error }
        outbox += flush.fail(error)
    }

    // MARK: Appending

    mutating func append(_ batches: ByteBuffer, assignment: OffsetAssignment, nowMs: Int64) throws
        -> (LogAppendInfo, SyncRequest)
    {
        guard batches.readableBytes <= config.segmentBytesMax else {
            throw LogError.recordBatchTooLarge(sizeBytes: batches.readableBytes, segmentBytesMax: config.segmentBytesMax)
        }
        // A leader writes new copies of the headers only (see `StampedHeaders`); a follower the batches as sent.
        let headers: [RecordBatchHeader]
        var stampedHeaders: ByteBuffer?
        switch assignment {
        case .leader(let epoch, let logAppendTimeMs):
            precondition(epoch >= 0)
            if let latest = epochs.latest?.epoch, epoch < latest {
                throw LogError.staleLeaderEpoch(epoch: epoch, latestEpoch: latest)
            }
            // Under the log's lock, so no other append can slip between the check and the write.
            if let duplicate = try checkProducers(Self.parseBatches(batches)) {
                return (duplicate, requestFlush())
            }
            let stamped: StampedHeaders
            do {
                stamped = try RecordBatchStamping.stampedHeaders(for: batches, baseOffset: logEndOffset, partitionLeaderEpoch: epoch,
                                                                 logAppendTimeMs: logAppendTimeMs)
            } catch {
                throw LogError.invalidBatches("\(error)")
            }
            guard stamped.headers.allSatisfy(\.hasStorableOffsets) else { throw LogError.invalidBatches("offsets past the largest storable") }
            headers = stamped.headers
            stampedHeaders = stamped.bytes
        case .follower:
            headers = try Self.parseBatches(batches)
        }
        var expected = logEndOffset
        for header in headers {
            guard header.baseOffset >= expected else {
                throw LogError.unexpectedAppendOffset(expectedAtLeast: expected, got: header.baseOffset)
            }
            expected = header.nextOffset
        }
        let first = headers[0]
        let last = headers[headers.count - 1]
        if shouldRoll(appendBytes: batches.readableBytes, lastOffset: last.lastOffset, nowMs: nowMs) {
            try roll(at: first.baseOffset, nowMs: nowMs)
        }
        try segments[segments.count - 1].append(batches, replacingHeadersWith: stampedHeaders, headers: headers)
        for header in headers { producers.apply(header) }

        var epochsChanged = false
        for header in headers where header.partitionLeaderEpoch > (epochs.latest?.epoch ?? -1) {
            epochsChanged = epochs.assign(epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset) || epochsChanged
        }
        if epochsChanged { try writeEpochCheckpoint() }

        var maxTimestamp = Int64(-1)
        var offsetOfMaxTimestamp = first.baseOffset
        for header in headers where header.maxTimestampMs > maxTimestamp {
            maxTimestamp = header.maxTimestampMs
            offsetOfMaxTimestamp = header.baseOffset
        }
        let info = LogAppendInfo(firstOffset: first.baseOffset, lastOffset: last.lastOffset, logEndOffset: logEndOffset,
                                 batchCount: headers.count, sizeBytes: batches.readableBytes,
                                 maxTimestamp: maxTimestamp, offsetOfMaxTimestamp: offsetOfMaxTimestamp)
        return (info, requestFlush())
    }

    /// Checks a leader append against the producers' state: nil to append, or the answer for a retried
    /// batch already in the log. A retry is only recognised as a single batch (what Produce carries).
    func checkProducers(_ headers: [RecordBatchHeader]) throws(LogError) -> LogAppendInfo? {
        var scratch = producers
        for header in headers {
            if case .duplicate(let original) = try scratch.check(header) {
                guard headers.count == 1 else {
                    throw .outOfOrderSequence("producer \(header.producerId): a duplicate batch inside a multi-batch append")
                }
                var info = LogAppendInfo(firstOffset: original.firstOffset, lastOffset: original.lastOffset,
                                         logEndOffset: logEndOffset, batchCount: 0, sizeBytes: 0,
                                         maxTimestamp: -1, offsetOfMaxTimestamp: original.firstOffset)
                info.isDuplicate = true
                return info
            }
            scratch.apply(header)
        }
        return nil
    }

    /// The headers of the whole batches that make up `buffer` (CRCs are the broker's to validate), or
    /// `invalidBatches`.
    static func parseBatches(_ buffer: ByteBuffer) throws(LogError) -> [RecordBatchHeader] {
        guard buffer.readableBytes > 0 else { throw .invalidBatches("no batches") }
        var batches = RecordBatchIterator(buffer)
        var headers: [RecordBatchHeader] = []
        do {
            while let entry = try batches.next() {
                guard entry.header.hasStorableOffsets else {
                    throw LogError.invalidBatches("batch at byte \(entry.index) has invalid offsets")
                }
                headers.append(entry.header)
            }
        } catch let error as LogError {
            throw error
        } catch {
            throw .invalidBatches("\(error)")
        }
        guard batches.trailingBytes == 0 else { throw .invalidBatches("partial batch at byte \(batches.position)") }
        return headers
    }

    func shouldRoll(appendBytes: Int, lastOffset: Int64, nowMs: Int64) -> Bool {
        let segment = active
        if lastOffset - segment.baseOffset > Int64(UInt32.max) { return true }  // relative offsets are uint32
        guard !segment.isEmpty else { return false }
        if segment.sizeBytes + Int64(appendBytes) > Int64(config.segmentBytesMax) { return true }
        return ageMs(now: nowMs, timestamp: segment.rollReferenceMs) > config.segmentMs
    }

    /// Makes a new active segment at `baseOffset`. The old one is sealed and synced first, so no crash can
    /// keep the new segment's bytes yet lose the old one's tail (a hole recovery could not see); an empty
    /// old one is removed instead. One fsync per roll, on the appending thread.
    mutating func roll(at baseOffset: Int64, nowMs: Int64) throws {
        precondition(baseOffset >= logEndOffset)
        if active.isEmpty {
            let old = segments.removeLast()
            try removeFiles(of: old)
        } else {
            try segments[segments.count - 1].seal()
            for file in active.files { try file.sync() }
        }
        segments.append(try LogSegment.create(in: directory, baseOffset: baseOffset, fileSystem: fileSystem,
                                              indexIntervalBytes: config.indexIntervalBytes, nowMs: nowMs))
        try fileSystem.syncDirectory(directory)
        logStartOffset = max(logStartOffset, segments[0].baseOffset)
        // The old segment is synced, so the snapshot never describes batches a crash could lose.
        try writeProducerSnapshot(at: baseOffset)
    }

    // MARK: Removing segments

    /// Removes a segment's files from the log: each is renamed to `<name>.deleted` (cheap, and what a
    /// crash leaves recovery deletes) and unlinked later, outside the lock. Handles close once no
    /// requested sync can name them.
    mutating func removeFiles(of segment: LogSegment) throws {
        retiredFiles += segment.files
        closeRetiredFilesIfIdle()
        for path in [SegmentFileNames.logPath(directory, segment.baseOffset),
                     SegmentFileNames.indexPath(directory, segment.baseOffset),
                     SegmentFileNames.timeIndexPath(directory, segment.baseOffset)] where fileSystem.fileExists(path) {
            let doomed = path + SegmentFileNames.deletedSuffix
            try fileSystem.rename(from: path, to: doomed)
            doomedPaths.append(doomed)
        }
    }

    /// Removed segments' files, for the owner to close and unlink outside the lock.
    struct RemovedFiles {
        let handles: [any StorageFile]
        let paths: [String]
        let fileSystem: any FileSystem

        /// Closes, then unlinks (a failed unlink leaves a `.deleted` file the next open removes).
        func release() {
            for file in handles { file.close() }
            for path in paths { try? fileSystem.removeFile(path) }
        }
    }

    mutating func takeRemovedFiles() -> RemovedFiles {
        defer {
            releasedFiles = []
            doomedPaths = []
        }
        return RemovedFiles(handles: releasedFiles, paths: doomedPaths, fileSystem: fileSystem)
    }

    mutating func close() {
        guard !isClosed else { return }
        if failure == nil {
            // Best effort: without these files the next open simply scans more.
            do {
                try writeCheckpoints()
                let activeIndex = segments.count - 1
                try segments[activeIndex].seal()
                for file in segments[activeIndex].files { try file.sync() }
                try writeOffsetCheckpoint(CheckpointFile.recoveryPoint, logEndOffset)  // all of it is synced now
                try writeProducerSnapshot(at: logEndOffset)
                try writeOffsetCheckpoint(CheckpointFile.cleanShutdown, segments[activeIndex].sizeBytes)
            } catch {}
        }
        isClosed = true
        outbox += flush.close()
        for segment in segments { retiredFiles += segment.files }
        closeRetiredFilesIfIdle()
    }
}
