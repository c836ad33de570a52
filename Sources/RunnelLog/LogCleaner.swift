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
    /// A compressed batch inflating beyond this is kept as it is, not compacted (the broker's one bound
    /// on inflating a batch, `BrokerSettings.uncompressedBatchBytesMax`).
    public var uncompressedBatchBytesMax: Int

    public init(dirtyBytesPerPassMax: Int = 64 << 20, offsetMapEntriesMax: Int = 1_000_000,
                offsetMapBytesMax: Int = 128 << 20, uncompressedBatchBytesMax: Int = RecordBatchValidator.uncompressedBytesMaxDefault) {
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
    /// Dirty data batches the pass could not take apart (records that do not parse, offsets that do not
    /// rise, or more than `uncompressedBatchBytesMax` inflated): kept whole, their keys not mapped. Such
    /// batches were stored before records were validated on append; the cleaner skips them, never traps.
    public var batchesSkipped = 0

    public init() {}
}

/// What a pass takes from the log under the lock; the reading and writing then happen outside it.
/// Segments below the active one never change in place (appends go to the active segment), so their
/// copies can be read without the lock; retention, truncation or closing may still remove them, which
/// `commitCleaned` detects before swapping anything.
struct CleanerSnapshot {
    let directory: String
    let fileSystem: any FileSystem
    let config: LogConfig
    /// Every segment at the time, the active one last.
    let segments: [LogSegment]
    let inactive: [SegmentSummary]
    let range: CleanableRange
    let producers: ProducerStateTable
    let generation: UInt64
}

/// A group's cleaned copy, written and synced under its `.cleaned` names, ready to swap in.
struct CleanedGroup {
    let baseOffset: Int64
    let endOffset: Int64
    /// The log files of the old segments, to check they are still the log's when swapping.
    let oldLogs: [any StorageFile]
    let oldBytes: Int64
    let cleanedBytes: Int64
    let removedRecords: Int
}

extension LogState {
    /// Under the lock: what a pass would clean, or nil when nothing is due.
    func cleanerSnapshot(nowMs: Int64) throws -> CleanerSnapshot? {
        let inactive = zip(segments, segments.dropFirst()).map { segment, next in
            SegmentSummary(baseOffset: segment.baseOffset, nextSegmentBaseOffset: next.baseOffset,
                           sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp)
        }
        guard let range = CleaningPlan.cleanableRange(
            inactive: inactive, activeBaseOffset: active.baseOffset, checkpoint: try readCleanerCheckpoint(),
            logStartOffset: logStartOffset, highWatermark: highWatermark, config: config, nowMs: nowMs)
        else { return nil }
        return CleanerSnapshot(directory: directory, fileSystem: fileSystem, config: config, segments: segments,
                               inactive: inactive, range: range, producers: producers, generation: generation)
    }

    /// Under the lock: swaps a cleaned group in (SegmentSwap's steps 2–4) if its old segments are still
    /// the log's; otherwise removes the cleaned files and returns false.
    mutating func commitCleaned(_ group: CleanedGroup, snapshotGeneration: UInt64, nowMs: Int64) throws -> Bool {
        let cleanedPaths = SegmentSwap.cleanedPaths(directory, baseOffset: group.baseOffset)
        guard generation == snapshotGeneration,
            let start = segments.firstIndex(where: { $0.baseOffset == group.baseOffset }),
            start + group.oldLogs.count < segments.count,
            segments[start + group.oldLogs.count].baseOffset == group.endOffset,
            zip(segments[start...], group.oldLogs).allSatisfy({ $0.log === $1 })
        else {
            for path in cleanedPaths where fileSystem.fileExists(path) { try fileSystem.removeFile(path) }
            return false
        }
        let indices = start..<(start + group.oldLogs.count)
        let swapPath = SegmentSwap.swapPath(directory, baseOffset: group.baseOffset, endOffset: group.endOffset)
        try fileSystem.rename(from: cleanedPaths[0], to: swapPath)
        try fileSystem.syncDirectory(directory)
        try SegmentSwap.removeSegmentFiles(in: directory, baseOffset: group.baseOffset, endOffset: group.endOffset, fileSystem: fileSystem)
        try fileSystem.syncDirectory(directory)
        try fileSystem.rename(from: cleanedPaths[1], to: SegmentFileNames.indexPath(directory, group.baseOffset))
        try fileSystem.rename(from: cleanedPaths[2], to: SegmentFileNames.timeIndexPath(directory, group.baseOffset))
        try fileSystem.rename(from: swapPath, to: SegmentFileNames.logPath(directory, group.baseOffset))
        try fileSystem.syncDirectory(directory)

        let (reopened, _) = try LogSegment.open(in: directory, baseOffset: group.baseOffset, fileSystem: fileSystem,
                                                indexIntervalBytes: config.indexIntervalBytes, trusted: true, nowMs: nowMs)
        for segment in segments[indices] { retiredFiles += segment.files }
        segments.replaceSubrange(indices, with: [reopened])
        closeRetiredFilesIfIdle()
        return true
    }

    /// Under the lock, after every group of a pass: offsets below `cleanedUpTo` are compacted — unless
    /// the log was truncated meanwhile, when the pass proves nothing.
    mutating func finishCleaning(cleanedUpTo: Int64, snapshotGeneration: UInt64) throws {
        guard generation == snapshotGeneration else { return }
        try writeOffsetCheckpoint(CheckpointFile.cleanerOffset, cleanedUpTo)
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

/// The reading and writing of a pass, outside the partition lock, on a `CleanerSnapshot`.
enum CleanerIO {
    /// What reading the dirty batches gave: the map, the offset it covers up to, the bytes read and the
    /// batches it had to skip.
    struct MapBuild {
        var map: OffsetMap
        var mapEnd: Int64
        var bytesRead: Int64 = 0
        var batchesSkipped = 0
    }

    /// Reads the dirty batches from `firstDirtyOffset` into a bounded map. Stops at a batch boundary
    /// when the map or the byte budget would overflow (never before the first batch, so each pass makes
    /// progress). A batch that cannot be taken apart, or whose offsets do not rise above those already
    /// mapped, is skipped and counted: the map only ever sees offsets in log order.
    static func buildOffsetMap(_ snapshot: CleanerSnapshot, limits: CleanerLimits) throws -> MapBuild {
        let range = snapshot.range
        var build = MapBuild(map: OffsetMap(entriesMax: limits.offsetMapEntriesMax, bytesMax: limits.offsetMapBytesMax),
                             mapEnd: range.firstDirtyOffset)
        var lastMappedOffset = Int64.min
        var anyBatch = false
        scan: for (index, summary) in snapshot.inactive.enumerated() where summary.baseOffset < range.firstUncleanableOffset {
            guard summary.nextSegmentBaseOffset > range.firstDirtyOffset else { continue }
            let segment = snapshot.segments[index]
            var position: Int64 = 0
            while position < segment.sizeBytes {
                let header = try header(of: segment, at: position)
                defer { position += Int64(header.totalSize) }
                if header.lastOffset < range.firstDirtyOffset { continue }
                if anyBatch && (build.bytesRead + Int64(header.totalSize) > Int64(limits.dirtyBytesPerPassMax)
                    || !build.map.hasRoom(keys: Int(header.recordCount), keyBytes: header.totalSize)) {
                    break scan
                }
                anyBatch = true
                build.bytesRead += Int64(header.totalSize)
                build.mapEnd = header.nextOffset
                guard !header.isControl else { continue }
                guard let batch = try scan(segment, at: position, header: header, limits: limits),
                    batch.records.first.map({ $0.offset > lastMappedOffset }) ?? true
                else {
                    build.batchesSkipped += 1
                    continue
                }
                for record in batch.records {
                    if let key = record.key { build.map.put(key, offset: record.offset) }
                }
                lastMappedOffset = batch.records.last?.offset ?? lastMappedOffset
            }
            build.mapEnd = max(build.mapEnd, summary.nextSegmentBaseOffset)  // the whole segment was read
        }
        return build
    }

    /// Writes `snapshot.segments[indices]` as one cleaned segment under the `.cleaned` names and syncs
    /// it (SegmentSwap's step 1). nil when a single segment would lose nothing (no rewrite then).
    static func writeCleaned(_ snapshot: CleanerSnapshot, _ indices: Range<Int>, map: OffsetMap, rules: CompactionRules,
                             limits: CleanerLimits, nowMs: Int64) throws -> CleanedGroup? {
        precondition(indices.upperBound < snapshot.segments.count, "the active segment is never cleaned")
        let old = Array(snapshot.segments[indices])
        let baseOffset = old[0].baseOffset
        let fileSystem = snapshot.fileSystem
        let cleanedPaths = SegmentSwap.cleanedPaths(snapshot.directory, baseOffset: baseOffset)
        let files = try cleanedPaths.map { try fileSystem.openFile($0, options: [.create, .truncate]) }
        var cleaned = LogSegment(baseOffset: baseOffset, log: files[0],
                                 offsetIndex: try IndexFile(file: files[1], baseOffset: baseOffset),
                                 timeIndex: try IndexFile(file: files[2], baseOffset: baseOffset),
                                 indexIntervalBytes: snapshot.config.indexIntervalBytes, createdMs: nowMs)
        var removedRecords = 0
        var nextOffset = baseOffset
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
                    let header = try header(of: segment, at: position)
                    let (kept, removed) = try filter(segment, at: position, header: header, map: map, rules: rules,
                                                     producers: snapshot.producers, limits: limits)
                    removedRecords += removed
                    if let kept {
                        // Batches on disk out of order cannot go into one segment; fail the pass, lose nothing.
                        guard header.baseOffset >= nextOffset, header.lastOffset >= header.baseOffset,
                            header.lastOffset - baseOffset <= Int64(UInt32.max)
                        else {
                            throw BatchScanError(reason: "batch at offset \(header.baseOffset) is out of order in \(segment.log.path)")
                        }
                        nextOffset = header.nextOffset
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
            for path in cleanedPaths where fileSystem.fileExists(path) { try? fileSystem.removeFile(path) }
            throw error
        }
        cleaned.close()
        let oldBytes = old.reduce(Int64(0)) { $0 + $1.sizeBytes }
        if old.count == 1 && removedRecords == 0 && cleaned.sizeBytes == oldBytes {
            for path in cleanedPaths { try fileSystem.removeFile(path) }  // nothing to gain; a leftover is removed on open
            return nil
        }
        return CleanedGroup(baseOffset: baseOffset, endOffset: snapshot.segments[indices.upperBound].baseOffset,
                            oldLogs: old.map(\.log), oldBytes: oldBytes, cleanedBytes: cleaned.sizeBytes, removedRecords: removedRecords)
    }

    private static func header(of segment: LogSegment, at position: Int64) throws -> RecordBatchHeader {
        guard let header = try segment.header(at: position) else {
            throw StorageError.io(operation: "read batch header", path: segment.log.path, errno: 0)
        }
        return header
    }

    private static func read(_ segment: LogSegment, at position: Int64, header: RecordBatchHeader) throws -> [UInt8] {
        let bytes = try segment.log.read(at: position, count: header.totalSize)
        guard bytes.count == header.totalSize else { throw StorageError.io(operation: "short read", path: segment.log.path, errno: 0) }
        return bytes
    }

    /// The batch at `position` taken apart; nil when it cannot be (it is then kept whole and adds no key).
    /// Read errors still throw: only the batch's own bytes make it unscannable.
    private static func scan(_ segment: LogSegment, at position: Int64, header: RecordBatchHeader, limits: CleanerLimits) throws -> ScannedBatch? {
        let stored = try read(segment, at: position, header: header)
        return try? ScannedBatch(stored: stored, header: header, maxUncompressedBytes: limits.uncompressedBatchBytesMax)
    }

    /// The bytes to keep of the batch at `position` (nil: drop it) and how many records were removed.
    /// Control batches (transaction markers) and batches that cannot be taken apart are kept whole; a
    /// batch that loses every record is kept empty when it is its idempotent producer's last, so the
    /// producer's sequence state can be rebuilt from the log.
    private static func filter(_ segment: LogSegment, at position: Int64, header: RecordBatchHeader, map: OffsetMap,
                               rules: CompactionRules, producers: ProducerStateTable, limits: CleanerLimits) throws -> ([UInt8]?, Int) {
        let stored = try read(segment, at: position, header: header)
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
}
