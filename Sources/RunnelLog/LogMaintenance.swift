import RunnelStorage

extension LogState {
    /// Drops the batch holding `offset` and everything after it (the follower path). The shrink and the
    /// removals are made durable before returning, so a crash cannot bring the dropped batches back.
    /// Returns the new log end offset (≤ `offset`; it is the base offset of the batch that held `offset`).
    mutating func truncate(to offset: Int64, nowMs: Int64) throws -> Int64 {
        guard offset >= logStartOffset else {
            throw LogError.offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        guard offset < logEndOffset else { return logEndOffset }
        if segments[0].baseOffset >= offset {
            try restart(at: offset, nowMs: nowMs)
            return logEndOffset
        }
        // The recovery point goes below the cut first: a crash after the cut must not find durable data missing.
        let kept = segments.last(where: { $0.baseOffset < offset })!  // segments[0] is one
        try lowerRecoveryPoint(to: try kept.locate(offset: offset)?.header.baseOffset ?? kept.nextOffset)
        generation += 1
        while let last = segments.last, last.baseOffset >= offset {
            segments.removeLast()
            try removeFiles(of: last)
        }
        // Later segments go durably first: a crash must never keep them after a shortened predecessor,
        // which would leave a hole recovery takes for a legitimate gap.
        try fileSystem.syncDirectory(directory)
        let activeIndex = segments.count - 1
        try segments[activeIndex].truncate(to: offset)
        try segments[activeIndex].log.sync()
        outbox += flush.truncate(to: logEndOffset)
        try writeRecoveryPointIfChanged()
        highWatermark = min(highWatermark, logEndOffset)
        // The batch holding `offset` may also hold the log start offset (DeleteRecords can point inside a
        // batch): the log then starts where it now ends. Nothing below the old start becomes readable.
        if logEndOffset < logStartOffset {
            logStartOffset = logEndOffset
            try writeOffsetCheckpoint(CheckpointFile.logStartOffset, logStartOffset)  // else a restart restores the old start
        }
        if epochs.truncateFromEnd(endOffset: logEndOffset) { try writeEpochCheckpoint() }
        try lowerCleanerCheckpoint(to: logEndOffset)
        try loadProducers()
        return logEndOffset
    }

    /// Empties the log and starts it again at `offset` (a follower far behind the leader's log start, or
    /// a log whose recorded start lies past its surviving data).
    mutating func restart(at offset: Int64, nowMs: Int64) throws {
        precondition(offset >= 0)
        try lowerRecoveryPoint(to: offset)
        generation += 1
        for segment in segments { try removeFiles(of: segment) }
        segments = [try LogSegment.create(in: directory, baseOffset: offset, fileSystem: fileSystem,
                                          indexIntervalBytes: config.indexIntervalBytes, nowMs: nowMs)]
        try fileSystem.syncDirectory(directory)
        logStartOffset = offset
        highWatermark = offset
        outbox += flush.restart(at: offset)
        epochs = LeaderEpochCache()
        producers = ProducerStateTable()
        try removeProducerSnapshots(after: -1)
        try writeOffsetCheckpoint(CheckpointFile.logStartOffset, offset)
        try writeEpochCheckpoint()
        try writeRecoveryPointIfChanged()
        try lowerCleanerCheckpoint(to: offset)
    }

    /// Advances the log start offset (DeleteRecords); durable before returning. Returns the new start.
    mutating func deleteRecords(before offset: Int64) throws -> Int64 {
        guard offset <= highWatermark else {
            throw LogError.offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: highWatermark)
        }
        guard offset > logStartOffset else { return logStartOffset }
        logStartOffset = offset
        try writeOffsetCheckpoint(CheckpointFile.logStartOffset, offset)
        if epochs.truncateFromStart(startOffset: offset) { try writeEpochCheckpoint() }
        _ = try deleteOldSegments(nowMs: nil)
        return logStartOffset
    }

    /// Deletes whole old segments by log start offset, and by retention time and size when `nowMs` is
    /// given. Never the active segment, never data at or above the high watermark.
    mutating func deleteOldSegments(nowMs: Int64?) throws -> RetentionOutcome {
        var config = self.config
        // A compact-only log loses nothing to time or size; only the log start offset deletes.
        if nowMs == nil || !config.cleanupPolicy.contains(.delete) {
            config.retentionMs = nil
            config.retentionBytes = nil
        }
        let inactive = zip(segments, segments.dropFirst()).map { segment, next in
            SegmentSummary(baseOffset: segment.baseOffset, nextSegmentBaseOffset: next.baseOffset,
                           sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp)
        }
        let count = RetentionPlan.deletableCount(
            inactive: inactive, activeSizeBytes: active.sizeBytes, highWatermark: highWatermark,
            logStartOffset: logStartOffset, config: config, nowMs: nowMs ?? 0)
        precondition(count < segments.count)
        var deletedBytes: Int64 = 0
        for segment in segments.prefix(count) {
            deletedBytes += segment.sizeBytes
            try removeFiles(of: segment)
        }
        segments.removeFirst(count)
        if count > 0 {
            logStartOffset = max(logStartOffset, segments[0].baseOffset)
            if epochs.truncateFromStart(startOffset: logStartOffset) { try writeEpochCheckpoint() }
        }
        return RetentionOutcome(deletedSegments: count, deletedBytes: deletedBytes, logStartOffset: logStartOffset)
    }
}
