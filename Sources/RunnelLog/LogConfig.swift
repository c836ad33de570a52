/// Per-partition log settings (Kafka's topic configs of the same meaning).
public struct LogConfig: Sendable, Equatable {
    /// A segment is rolled before an append would make it larger than this (segment.bytes).
    public var segmentBytesMax: Int
    /// A segment whose first batch is older than this (by the caller's clock) is rolled (segment.ms).
    public var segmentMs: Int64
    /// Segments whose newest timestamp is older than this are deleted; nil keeps them (retention.ms = -1).
    public var retentionMs: Int64?
    /// Old segments are deleted while the log exceeds this; nil means no limit (retention.bytes = -1).
    public var retentionBytes: Int64?
    /// One offset-index entry per this many bytes of batches (index.interval.bytes).
    public var indexIntervalBytes: Int
    /// The limit on callers waiting for a flush; beyond it waits fail fast (back-pressure).
    public var flushWaitersMax: Int

    public init(
        segmentBytesMax: Int = 1 << 30, segmentMs: Int64 = 7 * 24 * 3_600_000,
        retentionMs: Int64? = 7 * 24 * 3_600_000, retentionBytes: Int64? = nil,
        indexIntervalBytes: Int = 4096, flushWaitersMax: Int = 65_536
    ) {
        // Positions in the offset index are uint32.
        precondition(segmentBytesMax >= 61  /* a v2 batch header */ && segmentBytesMax <= Int(Int32.max))
        precondition(segmentMs > 0 && (retentionMs ?? 0) >= 0 && (retentionBytes ?? 0) >= 0)
        precondition(indexIntervalBytes > 0 && flushWaitersMax > 0)
        self.segmentBytesMax = segmentBytesMax
        self.segmentMs = segmentMs
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.indexIntervalBytes = indexIntervalBytes
        self.flushWaitersMax = flushWaitersMax
    }
}
