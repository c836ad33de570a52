import NIOCore
import RunnelLog
import RunnelMetadata
import RunnelRecords
import RunnelWire
import Synchronization

/// One partition replica on this broker: its log and what the metadata says about it (leader, epoch,
/// ISR), plus the high-watermark rule. On one node the ISR is this node alone, so the high watermark is
/// the durable (fsynced) log end offset; with followers it becomes the minimum over the ISR.
final class Partition: Sendable {
    struct State {
        var leader: BrokerID
        var leaderEpoch: Int32
        var replicas: [BrokerID]
        var isr: [BrokerID]
        var settings: TopicSettings
        var watchers = Watchers()
        var deleted = false
    }

    let topicPartition: TopicPartition
    let topicID: TopicID
    let nodeID: BrokerID
    let log: PartitionLog
    let waitersMax: Int
    let metrics: BrokerMetrics
    private let state: Mutex<State>

    init(topicPartition: TopicPartition, topicID: TopicID, nodeID: BrokerID, log: PartitionLog,
         metadata: MetadataImage.Partition, settings: TopicSettings, waitersMax: Int, metrics: BrokerMetrics) {
        self.topicPartition = topicPartition
        self.topicID = topicID
        self.nodeID = nodeID
        self.log = log
        self.waitersMax = waitersMax
        self.metrics = metrics
        state = Mutex(State(leader: metadata.leader, leaderEpoch: metadata.leaderEpoch, replicas: metadata.replicas,
                            isr: metadata.isr, settings: settings))
    }

    var snapshot: State { state.withLock { $0 } }
    var settings: TopicSettings { state.withLock { $0.settings } }
    var isLeader: Bool { state.withLock { $0.leader == nodeID } }
    var leaderEpoch: Int32 { state.withLock { $0.leaderEpoch } }

    /// Takes the newest metadata. Becoming leader in a newer epoch starts that epoch's range in the log
    /// (what OffsetForLeaderEpoch answers from).
    func update(metadata: MetadataImage.Partition, settings: TopicSettings) throws {
        let (becameLeaderAt, wakeups) = state.withLock { s -> (Int32?, [Wakeup]) in
            s.leader = metadata.leader
            s.leaderEpoch = metadata.leaderEpoch
            s.replicas = metadata.replicas
            s.isr = metadata.isr
            s.settings = settings
            return (metadata.leader == nodeID ? metadata.leaderEpoch : nil, s.watchers.takeAll())
        }
        if let epoch = becameLeaderAt, (log.latestEpoch ?? -1) < epoch {
            try log.assignEpochStart(epoch: epoch, startOffset: log.logEndOffset)
        }
        advanceHighWatermark()
        wakeups.forEach { $0.fire() }
    }

    /// Checks a client's view of the leader epoch (KIP-320): an older one is fenced, a newer one unknown.
    func checkLeaderEpoch(_ current: Int32) -> ErrorCode? {
        guard current >= 0 else { return nil }
        let epoch = leaderEpoch
        if current < epoch { return .fencedLeaderEpoch }
        if current > epoch { return .unknownLeaderEpoch }
        return nil
    }

    /// Appends a producer's batches as the leader. Validation happened before; the offsets and the
    /// leader epoch are stamped by the log. Returns once the bytes are written (not yet durable).
    func appendAsLeader(_ records: ByteBuffer, nowMs: Int64) throws -> LogAppendInfo {
        let (epoch, logAppendTime) = try state.withLock { s throws -> (Int32, Bool) in
            guard s.leader == nodeID, !s.deleted else {
                throw BrokerError(.notLeaderOrFollower, "This server is not the leader for \(topicPartition)")
            }
            return (s.leaderEpoch, s.settings.logAppendTime)
        }
        let info = try log.appendAsLeader(records, leaderEpoch: epoch, logAppendTimeMs: logAppendTime ? nowMs : nil, nowMs: nowMs)
        log.whenFlushed(to: info.lastOffset + 1) { [self] _ in advanceHighWatermark() }
        metrics.recordOffsets(topicPartition, logEndOffset: info.logEndOffset, highWatermark: log.highWatermark)
        wakeWatchers()  // followers fetch up to the log end offset
        return info
    }

    /// Moves the high watermark to what every ISR member holds durably. Serialised by the partition
    /// lock, so two completions can never move it backwards.
    func advanceHighWatermark() {
        let wakeups = state.withLock { s -> [Wakeup] in
            // Followers report their log end offsets with the cluster issue; until then the ISR is this node.
            guard s.leader == nodeID, s.isr == [nodeID] || s.isr.isEmpty else { return [] }
            let durable = log.flushedOffset
            guard durable > log.highWatermark else { return [] }
            log.updateHighWatermark(durable)
            metrics.recordOffsets(topicPartition, logEndOffset: log.logEndOffset, highWatermark: durable)
            return s.watchers.takeAll()
        }
        wakeups.forEach { $0.fire() }
    }

    /// Registers a parked request to be woken by the next change; false when the limit is reached.
    func watch(_ wakeup: Wakeup) -> Bool { state.withLock { $0.watchers.add(wakeup, limit: waitersMax) } }
    func unwatch(_ wakeup: Wakeup) { state.withLock { $0.watchers.remove(wakeup) } }

    func wakeWatchers() {
        state.withLock { $0.watchers.takeAll() }.forEach { $0.fire() }
    }

    /// Marks the partition gone (topic deleted) and wakes everything parked on it.
    func markDeleted() {
        state.withLock { s -> [Wakeup] in
            s.deleted = true
            return s.watchers.takeAll()
        }.forEach { $0.fire() }
    }

    var isDeleted: Bool { state.withLock { $0.deleted } }
}
