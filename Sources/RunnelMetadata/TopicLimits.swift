/// How many partitions one broker may host and how many topics the cluster may hold: past them a create
/// is refused before anything is committed (POLICY_VIOLATION), instead of committing partitions whose
/// logs cannot be opened. Kafka has no such limit; its brokers run out of file descriptors instead.
public struct TopicLimits: Hashable, Sendable {
    public var partitionsPerBrokerMax: Int
    public var topicsMax: Int
    /// Where the limits come from, for the error message (e.g. the file-descriptor limit).
    public var reason: String

    public init(partitionsPerBrokerMax: Int = .max, topicsMax: Int = .max, reason: String = "") {
        self.partitionsPerBrokerMax = partitionsPerBrokerMax
        self.topicsMax = topicsMax
        self.reason = reason
    }

    /// Refuses adding `replicas` (broker → new partitions there) and `newTopics` topics to `image`.
    func check(addingReplicas replicas: [BrokerID: Int], newTopics: Int, to image: MetadataImage) throws(MetadataError) {
        let because = reason.isEmpty ? "" : " (\(reason))"
        if newTopics > 0, image.topics.count + newTopics > topicsMax {
            throw .policyViolation("The cluster holds \(image.topics.count) topics; the limit is \(topicsMax)\(because).")
        }
        for (broker, added) in replicas.sorted(by: { $0.key < $1.key }) {
            let total = image.replicaCount(on: broker) + added
            if total > partitionsPerBrokerMax {
                throw .policyViolation(
                    "Adding \(added) partitions would put \(total) partitions on broker \(broker), over its limit of \(partitionsPerBrokerMax)\(because).")
            }
        }
    }
}
