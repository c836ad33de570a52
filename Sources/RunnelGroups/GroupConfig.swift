/// Coordinator settings, named after Kafka's broker configs.
public struct GroupConfig: Sendable, Hashable {
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits for more members.
    public var initialRebalanceDelayMs: Int64 = 3000
    /// `group.min.session.timeout.ms` / `group.max.session.timeout.ms`.
    public var sessionTimeoutMsMin: Int32 = 6000
    public var sessionTimeoutMsMax: Int32 = 1_800_000
    /// `group.max.size`: members (joined plus awaiting their second join) per group.
    public var groupSizeMax: Int = 1000
    /// Groups the coordinator holds; beyond it new groups are refused with COORDINATOR_NOT_AVAILABLE (retriable).
    public var groupsMax: Int = 100_000
    /// Committed partitions per group.
    public var offsetsPerGroupMax: Int = 100_000
    /// `offset.metadata.max.bytes`.
    public var offsetMetadataBytesMax: Int = 4096
    /// `offsets.retention.minutes` (default 7 days) in milliseconds.
    public var offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1000
    /// `offsets.retention.check.interval.ms`: how often tick scans for expired offsets.
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    /// A new member that joined but never rejoined a rebalance is dropped after this (Kafka's 5 minutes).
    public var newMemberJoinTimeoutMs: Int64 = 300_000
    /// Distinguishes member ids made by different coordinator incarnations (e.g. broker epoch), so ids
    /// never repeat across restarts without using randomness in the core.
    public var memberIDIncarnation: UInt64 = 0

    public init() {}
}
