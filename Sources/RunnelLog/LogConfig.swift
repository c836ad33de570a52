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
    /// What happens to old data (cleanup.policy): deleted by retention, compacted by key, or both.
    public var cleanupPolicy: CleanupPolicy
    /// How long tombstones survive compaction (delete.retention.ms), measured from their batch's max timestamp.
    public var deleteRetentionMs: Int64
    /// A segment is compacted only once its newest timestamp is at least this old (min.compaction.lag.ms).
    public var minCompactionLagMs: Int64
    /// A pass runs only when dirty bytes / (clean + dirty bytes) reaches this (min.cleanable.dirty.ratio).
    public var minCleanableDirtyRatio: Double

    public init(
        segmentBytesMax: Int = 1 << 30, segmentMs: Int64 = 7 * 24 * 3_600_000,
        retentionMs: Int64? = 7 * 24 * 3_600_000, retentionBytes: Int64? = nil,
        indexIntervalBytes: Int = 4096, flushWaitersMax: Int = 65_536,
        cleanupPolicy: CleanupPolicy = .delete, deleteRetentionMs: Int64 = 86_400_000,
        minCompactionLagMs: Int64 = 0, minCleanableDirtyRatio: Double = 0.5
    ) {
        // Positions in the offset index are uint32.
        precondition(segmentBytesMax >= 61  /* a v2 batch header */ && segmentBytesMax <= Int(Int32.max))
        precondition(segmentMs > 0 && (retentionMs ?? 0) >= 0 && (retentionBytes ?? 0) >= 0)
        precondition(indexIntervalBytes > 0 && flushWaitersMax > 0)
        precondition(deleteRetentionMs >= 0 && minCompactionLagMs >= 0)
        precondition(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)
        self.segmentBytesMax = segmentBytesMax
        self.segmentMs = segmentMs
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.indexIntervalBytes = indexIntervalBytes
        self.flushWaitersMax = flushWaitersMax
        self.cleanupPolicy = cleanupPolicy
        self.deleteRetentionMs = deleteRetentionMs
        self.minCompactionLagMs = minCompactionLagMs
        self.minCleanableDirtyRatio = minCleanableDirtyRatio
    }
}

/// Kafka's cleanup.policy: "delete", "compact" or "compact,delete".
public struct CleanupPolicy: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Segments go by retention time and size.
    public static let delete = CleanupPolicy(rawValue: 1 << 0)
    /// The cleaner keeps the latest record per key.
    public static let compact = CleanupPolicy(rawValue: 1 << 1)

    /// Parses the config value; nil for anything else.
    public init?(configValue: String) {
        var policy: CleanupPolicy = []
        for part in configValue.split(separator: ",") {
            switch part.filter({ $0 != " " }) {
            case "delete": policy.insert(.delete)
            case "compact": policy.insert(.compact)
            default: return nil
            }
        }
        guard !policy.isEmpty else { return nil }
        self = policy
    }
}
