/// Where a cleaning pass may work, before its offset map is built.
struct CleanableRange: Equatable {
    /// The first offset not yet compacted (the cleaner checkpoint, at least the log start offset).
    var firstDirtyOffset: Int64
    /// The base offset of the first segment the cleaner must not touch: the active segment, one reaching
    /// the high watermark, or one newer than min.compaction.lag.ms.
    var firstUncleanableOffset: Int64
    var cleanBytes: Int64
    var dirtyBytes: Int64

    var dirtyRatio: Double {
        cleanBytes + dirtyBytes == 0 ? 0 : Double(dirtyBytes) / Double(cleanBytes + dirtyBytes)
    }
}

/// The rules a pass applies to each record once its map covers [firstDirtyOffset, mapEndOffset).
struct CompactionRules: Equatable {
    var firstDirtyOffset: Int64
    /// One past the last offset the map saw; records from here on are kept untouched.
    var mapEndOffset: Int64
    var nowMs: Int64
    var deleteRetentionMs: Int64
}

/// Pure: which segments a pass reads and rewrites, and which records it keeps.
enum CleaningPlan {
    /// The range a pass would clean, or nil when there is nothing dirty below the uncleanable point or
    /// the dirty share is under `min.cleanable.dirty.ratio`. `inactive` are the segments below the active
    /// one, oldest first.
    static func cleanableRange(inactive: [SegmentSummary], activeBaseOffset: Int64, checkpoint: Int64?,
                               logStartOffset: Int64, highWatermark: Int64, config: LogConfig, nowMs: Int64) -> CleanableRange? {
        guard config.cleanupPolicy.contains(.compact), let first = inactive.first else { return nil }
        var firstUncleanable = activeBaseOffset
        for segment in inactive {
            let tooYoung = config.minCompactionLagMs > 0 && ageMs(now: nowMs, timestamp: segment.maxTimestamp) < config.minCompactionLagMs
            if segment.nextSegmentBaseOffset > highWatermark || tooYoung {
                firstUncleanable = segment.baseOffset
                break
            }
        }
        let firstDirty = max(checkpoint ?? logStartOffset, logStartOffset, first.baseOffset)
        guard firstDirty < firstUncleanable else { return nil }
        var range = CleanableRange(firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable, cleanBytes: 0, dirtyBytes: 0)
        for segment in inactive where segment.baseOffset < firstUncleanable {
            if segment.nextSegmentBaseOffset <= firstDirty { range.cleanBytes += segment.sizeBytes } else { range.dirtyBytes += segment.sizeBytes }
        }
        guard range.dirtyBytes > 0, range.dirtyRatio >= config.minCleanableDirtyRatio else { return nil }
        return range
    }

    /// Whether a data record stays. Records without a key cannot be compared and stay; records at or past
    /// the map's end are not judged this pass. A record goes when a later offset holds its key. A
    /// tombstone that is the latest for its key goes once it was already compacted by an earlier pass (so
    /// every older record of its key is gone from every segment) and its batch's max timestamp is older
    /// than delete.retention.ms.
    static func retains(_ record: ScannedRecord, batchMaxTimestampMs: Int64, latestOffset: Int64?, rules: CompactionRules) -> Bool {
        guard record.key != nil, record.offset < rules.mapEndOffset else { return true }
        if let latestOffset, record.offset < latestOffset { return false }
        if record.isTombstone && record.offset < rules.firstDirtyOffset
            && ageMs(now: rules.nowMs, timestamp: batchMaxTimestampMs) > rules.deleteRetentionMs {
            return false
        }
        return true
    }

    /// Splits the segments a pass rewrites — those starting below `mapEndOffset`, oldest first — into
    /// runs written as one segment each: at most `segmentBytesMax` bytes before cleaning, and offsets
    /// within a segment's uint32 relative range. Returns index ranges into `segments`.
    static func groups(_ segments: [SegmentSummary], mapEndOffset: Int64, segmentBytesMax: Int) -> [Range<Int>] {
        let count = segments.prefix { $0.baseOffset < mapEndOffset }.count
        var groups: [Range<Int>] = []
        var start = 0
        while start < count {
            var end = start + 1
            var bytes = segments[start].sizeBytes
            while end < count, bytes + segments[end].sizeBytes <= Int64(segmentBytesMax),
                segments[end].nextSegmentBaseOffset - 1 - segments[start].baseOffset <= Int64(UInt32.max) {
                bytes += segments[end].sizeBytes
                end += 1
            }
            groups.append(start..<end)
            start = end
        }
        return groups
    }
}
