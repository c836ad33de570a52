import NIOCore
import RunnelRecords
import RunnelStorage

/// Broker-wide limits of the log cleaner (Kafka's log.cleaner.* broker settings).
public struct CleanerLimits: Sendable, Equatable {
    /// Dirty bytes one pass reads into its offset map (the I/O bound of a pass, with the rewrite of the
    /// segments below them); a larger dirty part is cleaned over several passes.
    public var dirtyBytesPerPassMax: Int
    /// Keys one pass's offset map holds; when it fills, the pass cleans up to the offset it covered.
    public var offsetMapEntriesMax: Int
    /// Bytes the offset map may take (keys plus per-entry overhead).
    public var offsetMapBytesMax: Int
    /// A compressed batch inflating beyond this is kept as it is, not compacted.
    public var uncompressedBatchBytesMax: Int

    public init(dirtyBytesPerPassMax: Int = 64 << 20, offsetMapEntriesMax: Int = 1_000_000,
                offsetMapBytesMax: Int = 128 << 20, uncompressedBatchBytesMax: Int = 64 << 20) {
        precondition(dirtyBytesPerPassMax > 0 && offsetMapEntriesMax > 0 && offsetMapBytesMax > 0 && uncompressedBatchBytesMax > 0)
        self.dirtyBytesPerPassMax = dirtyBytesPerPassMax
        self.offsetMapEntriesMax = offsetMapEntriesMax
        self.offsetMapBytesMax = offsetMapBytesMax
        self.uncompressedBatchBytesMax = uncompressedBatchBytesMax
    }
}

/// What one cleaning pass did.
public struct CleanerOutcome: Sendable, Equatable {
    /// False when there was nothing to clean (no dirty segment, or the dirty ratio is too low).
    public var ran = false
    /// The cleaner checkpoint before and after the pass: offsets below `cleanedUpTo` are compacted.
    public var firstDirtyOffset: Int64 = 0
    public var cleanedUpTo: Int64 = 0
    /// Dirty bytes read into the offset map and bytes of the segments rewritten, before and after.
    public var dirtyBytesRead: Int64 = 0
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0
    public var segmentsRewritten = 0
    public var recordsRemoved = 0

    public init() {}
}

extension LogState {
    /// One compaction pass (see PartitionLog.clean). Runs under the partition lock: reads and appends
    /// wait for it, which the per-pass byte budget keeps short.
    mutating func clean(nowMs: Int64, limits: CleanerLimits) throws -> CleanerOutcome {
        var outcome = CleanerOutcome()
        let inactive = zip(segments, segments.dropFirst()).map { segment, next in
            SegmentSummary(baseOffset: segment.baseOffset, nextSegmentBaseOffset: next.baseOffset,
                           sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp)
        }
        guard let range = CleaningPlan.cleanableRange(
            inactive: inactive, activeBaseOffset: active.baseOffset, checkpoint: try readCleanerCheckpoint(),
            logStartOffset: logStartOffset, highWatermark: highWatermark, config: config, nowMs: nowMs)
        else { return outcome }
        outcome.ran = true
        outcome.firstDirtyOffset = range.firstDirtyOffset

        let (map, mapEnd, dirtyRead) = try buildOffsetMap(range: range, inactive: inactive, limits: limits)
        outcome.dirtyBytesRead = dirtyRead
        outcome.cleanedUpTo = mapEnd
        let rules = CompactionRules(firstDirtyOffset: range.firstDirtyOffset, mapEndOffset: mapEnd, nowMs: nowMs,
                                    deleteRetentionMs: config.deleteRetentionMs)
        var removedSegments = 0
        for group in CleaningPlan.groups(inactive, mapEndOffset: mapEnd, segmentBytesMax: config.segmentBytesMax) {
            let start = group.lowerBound - removedSegments
            try cleanGroup(start..<(start + group.count), map: map, rules: rules, limits: limits, nowMs: nowMs, outcome: &outcome)
            removedSegments += group.count - 1
        }
        try writeOffsetCheckpoint(CheckpointFile.cleanerOffset, mapEnd)
        return outcome
    }

    /// Reads the dirty batches from `firstDirtyOffset` into a bounded map. Stops at a batch boundary
    /// when the map or the byte budget would overflow (never before the first batch, so each pass makes
    /// progress). Returns the map and the offset it covers up to.
    private func buildOffsetMap(range: CleanableRange, inactive: [SegmentSummary], limits: CleanerLimits) throws
        -> (OffsetMap, Int64, Int64)
    {
        var map = OffsetMap(entriesMax: limits.offsetMapEntriesMax, bytesMax: limits.offsetMapBytesMax)
        var mapEnd = range.firstDirtyOffset
        var bytesRead: Int64 = 0
        var anyBatch = false
        scan: for (index, summary) in inactive.enumerated() where summary.baseOffset < range.firstUncleanableOffset {
            guard summary.nextSegmentBaseOffset > range.firstDirtyOffset else { continue }
            let segment = segments[index]
            var position: Int64 = 0
            while position < segment.sizeBytes {
                guard let header = try segment.header(at: position) else {
                    throw StorageError.io(operation: "read batch header", path: segment.log.path, errno: 0)
                }
                defer { position += Int64(header.totalSize) }
                if header.lastOffset < range.firstDirtyOffset { continue }
                if anyBatch && (bytesRead + Int64(header.totalSize) > Int64(limits.dirtyBytesPerPassMax)
                    || !map.hasRoom(keys: Int(header.recordCount), keyBytes: header.totalSize)) {
                    break scan
                }
                anyBatch = true
                bytesRead += Int64(header.totalSize)
                mapEnd = header.nextOffset
                guard !header.isControl, let batch = try scan(segment, at: position, header: header, limits: limits) else { continue }
                for record in batch.records {
                    if let key = record.key { map.put(key, offset: record.offset) }
                }
            }
            mapEnd = max(mapEnd, summary.nextSegmentBaseOffset)  // the whole segment was read
        }
        return (map, mapEnd, bytesRead)
    }

    /// The batch at `position` taken apart; nil when it cannot be (it is then kept whole and adds no key).
    private func scan(_ segment: LogSegment, at position: Int64, header: RecordBatchHeader, limits: CleanerLimits) throws -> ScannedBatch? {
        let bytes = try segment.log.read(at: position, count: header.totalSize)
        guard bytes.count == header.totalSize else { throw StorageError.io(operation: "short read", path: segment.log.path, errno: 0) }
        return try? ScannedBatch(stored: bytes, header: header, maxUncompressedBytes: limits.uncompressedBatchBytesMax)
    }

    /// Rewrites `segments[indices]` (a run below the active segment) as one segment holding what `rules`
    /// keep, and swaps it in crash-safely (SegmentSwap). A single segment that loses nothing is left alone.
    private mutating func cleanGroup(_ indices: Range<Int>, map: OffsetMap, rules: CompactionRules, limits: CleanerLimits,
                                     nowMs: Int64, outcome: inout CleanerOutcome) throws {
        precondition(indices.upperBound < segments.count, "the active segment is never cleaned")
        let old = Array(segments[indices])
        let baseOffset = old[0].baseOffset
        let endOffset = segments[indices.upperBound].baseOffset
        let logPath = SegmentFileNames.logPath(directory, baseOffset)
        let indexPath = SegmentFileNames.indexPath(directory, baseOffset)
        let timeIndexPath = SegmentFileNames.timeIndexPath(directory, baseOffset)
        let cleanedPaths = [logPath, indexPath, timeIndexPath].map(SegmentSwap.cleanedPath)
        let files = try cleanedPaths.map { try fileSystem.openFile($0, options: [.create, .truncate]) }
        var cleaned = LogSegment(baseOffset: baseOffset, log: files[0],
                                 offsetIndex: try IndexFile(file: files[1], baseOffset: baseOffset),
                                 timeIndex: try IndexFile(file: files[2], baseOffset: baseOffset),
                                 indexIntervalBytes: config.indexIntervalBytes, createdMs: nowMs)
        var removedRecords = 0
        do {
            var pending = ByteBuffer()
            var pendingHeaders: [RecordBatchHeader] = []
            func flush() throws {
                guard !pendingHeaders.isEmpty else { return }
                try cleaned.append(pending, headers: pendingHeaders)
                pending.clear()
                pendingHeaders = []
            }
            for segment in old {
                var position: Int64 = 0
                while position < segment.sizeBytes {
                    guard let header = try segment.header(at: position) else {
                        throw StorageError.io(operation: "read batch header", path: segment.log.path, errno: 0)
                    }
                    let (kept, removed) = try filter(segment, at: position, header: header, map: map, rules: rules, limits: limits)
                    removedRecords += removed
                    if let kept {
                        pendingHeaders.append(try RecordBatchHeader(parsing: ByteBuffer(bytes: kept)))
                        pending.writeBytes(kept)
                        if pending.readableBytes >= 1 << 20 { try flush() }
                    }
                    position += Int64(header.totalSize)
                }
            }
            try flush()
            try cleaned.seal()
            for file in cleaned.files { try file.sync() }
        } catch {
            cleaned.close()
            throw error
        }
        cleaned.close()
        let beforeBytes = old.reduce(Int64(0)) { $0 + $1.sizeBytes }
        if old.count == 1 && removedRecords == 0 && cleaned.sizeBytes == beforeBytes {
            for path in cleanedPaths { try fileSystem.removeFile(path) }  // nothing to gain; a leftover is removed on open
            return
        }
        // The swap protocol (SegmentSwap): commit, remove the old files durably, then take the final names.
        let swapPath = SegmentSwap.swapPath(directory, baseOffset: baseOffset, endOffset: endOffset)
        try fileSystem.rename(from: cleanedPaths[0], to: swapPath)
        try fileSystem.syncDirectory(directory)
        try SegmentSwap.removeSegmentFiles(in: directory, baseOffset: baseOffset, endOffset: endOffset, fileSystem: fileSystem)
        try fileSystem.syncDirectory(directory)
        try fileSystem.rename(from: cleanedPaths[1], to: indexPath)
        try fileSystem.rename(from: cleanedPaths[2], to: timeIndexPath)
        try fileSystem.rename(from: swapPath, to: logPath)
        try fileSystem.syncDirectory(directory)

        let (reopened, _) = try LogSegment.open(in: directory, baseOffset: baseOffset, fileSystem: fileSystem,
                                                indexIntervalBytes: config.indexIntervalBytes, trusted: true, nowMs: nowMs)
        for segment in old { retiredFiles += segment.files }
        segments.replaceSubrange(indices, with: [reopened])
        closeRetiredFilesIfIdle()
        outcome.segmentsRewritten += old.count
        outcome.bytesBefore += beforeBytes
        outcome.bytesAfter += reopened.sizeBytes
        outcome.recordsRemoved += removedRecords
    }

    /// The bytes to keep of the batch at `position` (nil: drop it) and how many records were removed.
    /// Control batches (transaction markers) and batches that cannot be taken apart are kept whole; a
    /// batch that loses every record is kept empty when it is its idempotent producer's last, so the
    /// producer's sequence state can be rebuilt from the log.
    private func filter(_ segment: LogSegment, at position: Int64, header: RecordBatchHeader, map: OffsetMap,
                        rules: CompactionRules, limits: CleanerLimits) throws -> ([UInt8]?, Int) {
        let stored = try segment.log.read(at: position, count: header.totalSize)
        guard stored.count == header.totalSize else { throw StorageError.io(operation: "short read", path: segment.log.path, errno: 0) }
        guard !header.isControl, header.recordCount > 0,
            let batch = try? ScannedBatch(stored: stored, header: header, maxUncompressedBytes: limits.uncompressedBatchBytesMax)
        else { return (stored, 0) }
        let kept = batch.records.filter { record in
            CleaningPlan.retains(record, batchMaxTimestampMs: header.maxTimestampMs,
                                 latestOffset: record.key.flatMap(map.latestOffset(for:)), rules: rules)
        }
        let removed = batch.records.count - kept.count
        if removed == 0 { return (stored, 0) }
        let isProducersLast = header.hasProducerId && producers[header.producerId]?.batches.last?.lastOffset == header.lastOffset
        if kept.isEmpty && !isProducersLast { return (nil, removed) }
        return (try batch.rebuilt(keeping: kept), removed)
    }

    func readCleanerCheckpoint() throws -> Int64? {
        try CheckpointFile.read(path(CheckpointFile.cleanerOffset), fileSystem: fileSystem).flatMap(CheckpointFile.decodeOffset)
    }

    /// After truncation the offsets above the new end will be written again, uncompacted: the cleaner
    /// must not take them for clean (it would drop tombstones whose older records still exist).
    mutating func lowerCleanerCheckpoint(to offset: Int64) throws {
        if let checkpoint = try readCleanerCheckpoint(), checkpoint > offset {
            try writeOffsetCheckpoint(CheckpointFile.cleanerOffset, offset)
        }
    }
}
