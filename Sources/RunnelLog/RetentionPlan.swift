/// What retention needs to know about one inactive segment.
struct SegmentSummary: Equatable {
    var baseOffset: Int64
    /// The base offset of the segment after it (where its offsets end at the latest).
    var nextSegmentBaseOffset: Int64
    var sizeBytes: Int64
    var maxTimestamp: Int64
}

/// Pure: how many of the oldest segments to delete. Segments go whole and oldest first; a segment goes
/// only when it lies entirely below the high watermark and (a) entirely below the log start offset, or
/// (b) its newest timestamp is older than `retentionMs`, or (c) the log stays at or above
/// `retentionBytes` without it. The active segment is never among `inactive`.
enum RetentionPlan {
    static func deletableCount(inactive: [SegmentSummary], activeSizeBytes: Int64, highWatermark: Int64,
                               logStartOffset: Int64, config: LogConfig, nowMs: Int64) -> Int {
        let belowHighWatermark = inactive.prefix { $0.nextSegmentBaseOffset <= highWatermark }
        let belowStart = belowHighWatermark.prefix { $0.nextSegmentBaseOffset <= logStartOffset }.count
        var expired = 0
        if let retentionMs = config.retentionMs {
            expired = belowHighWatermark.prefix { ageMs(now: nowMs, timestamp: $0.maxTimestamp) > retentionMs }.count
        }
        var oversized = 0
        if let retentionBytes = config.retentionBytes {
            var totalBytes = inactive.reduce(activeSizeBytes) { $0 + $1.sizeBytes }
            for segment in belowHighWatermark {
                guard totalBytes - segment.sizeBytes >= retentionBytes else { break }
                totalBytes -= segment.sizeBytes
                oversized += 1
            }
        }
        return max(belowStart, expired, oversized)
    }
}

/// `now - timestamp`, saturating: timestamps come from clients and may be anywhere in Int64.
func ageMs(now: Int64, timestamp: Int64) -> Int64 {
    let (age, overflow) = now.subtractingReportingOverflow(timestamp)
    guard overflow else { return age }
    return timestamp < 0 ? Int64.max : Int64.min
}
