/// The leader elector: pure decisions from a partition's replicas, ISR and the brokers that are fenced,
/// run by the controller. The changes it returns become committed `partitionChange` records; applying
/// one that names a new leader raises the leader epoch, and every one raises the partition epoch.
public enum LeaderElection {
    /// Who leads a partition that needs a leader.
    public enum Choice: Hashable, Sendable {
        /// The first replica, in replica order, that is in the ISR and not fenced.
        case clean(BrokerID)
        /// No ISR member is live and the topic allows unclean election: the first live replica outside
        /// the ISR, which may lack acknowledged records.
        case unclean(BrokerID)
        /// No replica may lead: the partition goes offline and keeps its last ISR, so that it comes back
        /// only when an ISR member returns.
        case offline
    }

    /// The choice for a partition with these replicas and ISR. The seed system elected `replicas[0]`
    /// whatever its state; here a fenced broker or a replica outside the ISR never leads a clean election.
    public static func choose(
        replicas: [BrokerID], isr: [BrokerID], fenced: Set<BrokerID>, uncleanAllowed: Bool
    ) -> Choice {
        if let leader = replicas.first(where: { isr.contains($0) && !fenced.contains($0) }) { return .clean(leader) }
        if uncleanAllowed, let leader = replicas.first(where: { !fenced.contains($0) }) { return .unclean(leader) }
        return .offline
    }

    /// The changes that fence `broker`: it leaves every ISR it is in, except as the last member (a
    /// partition whose only in-sync copy is on it keeps that fact, as Kafka does), and every partition it
    /// led gets a new leader from what remains of the ISR, or goes offline. `fenced` must include
    /// `broker`. In topic id, then partition order, so that the records are the same on every run.
    public static func changesFencing(
        _ broker: BrokerID, in image: MetadataImage, fenced: Set<BrokerID>, uncleanAllowed: (TopicID) -> Bool = { _ in false }
    ) -> [PartitionChange] {
        var changes: [PartitionChange] = []
        for topic in image.topics.values.sorted(by: { $0.id < $1.id }) {
            for (index, partition) in topic.partitions.sorted(by: { $0.key < $1.key }) {
                guard partition.leader == broker || partition.isr.contains(broker) else { continue }
                let isr = partition.isr == [broker] ? partition.isr : partition.isr.filter { $0 != broker }
                var change = PartitionChange(topicID: topic.id, partition: index, isr: isr == partition.isr ? nil : isr)
                if partition.leader == broker || partition.leader == noLeader {
                    switch choose(replicas: partition.replicas, isr: isr, fenced: fenced, uncleanAllowed: uncleanAllowed(topic.id)) {
                    case .clean(let leader): change.leader = leader
                    case .unclean(let leader):
                        change.leader = leader
                        change.isr = [leader]
                    case .offline: change.leader = noLeader
                    }
                }
                if change.leader == partition.leader { change.leader = nil }
                if change.leader != nil || change.isr != nil { changes.append(change) }
            }
        }
        return changes
    }

    /// The changes that bring back offline partitions once `broker` is unfenced: each partition without a
    /// leader whose ISR holds a live member gets one (epoch + 1).
    public static func changesUnfencing(
        _ broker: BrokerID, in image: MetadataImage, fenced: Set<BrokerID>
    ) -> [PartitionChange] {
        var changes: [PartitionChange] = []
        for topic in image.topics.values.sorted(by: { $0.id < $1.id }) {
            for (index, partition) in topic.partitions.sorted(by: { $0.key < $1.key }) where partition.leader == noLeader {
                if case .clean(let leader) = choose(replicas: partition.replicas, isr: partition.isr, fenced: fenced, uncleanAllowed: false) {
                    changes.append(PartitionChange(topicID: topic.id, partition: index, leader: leader))
                }
            }
        }
        return changes
    }

    /// Preferred-leader moves: partitions led by someone other than their first replica while that
    /// replica is in the ISR and not fenced get it back, so that a restart does not leave one node
    /// leading everything (Kafka's `auto.leader.rebalance.enable`).
    public static func preferredLeaderChanges(in image: MetadataImage, fenced: Set<BrokerID>) -> [PartitionChange] {
        var changes: [PartitionChange] = []
        for topic in image.topics.values.sorted(by: { $0.id < $1.id }) {
            for (index, partition) in topic.partitions.sorted(by: { $0.key < $1.key }) {
                guard let preferred = partition.replicas.first, preferred != partition.leader,
                      partition.isr.contains(preferred), !fenced.contains(preferred) else { continue }
                changes.append(PartitionChange(topicID: topic.id, partition: index, leader: preferred))
            }
        }
        return changes
    }
}
