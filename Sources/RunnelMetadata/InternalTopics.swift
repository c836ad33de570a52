/// Topic names the broker keeps for itself, with Kafka's rules for them.
public enum InternalTopics {
    /// The group coordinator's records (Kafka's `__consumer_offsets`).
    public static let offsets = "__consumer_offsets"
    /// The directory of the broker's own metadata log, Kafka's `__cluster_metadata`: not a Kafka topic,
    /// so it is never created by a client and never shown in Metadata.
    public static let metadataLog = "__meta"

    /// Kafka's `Topic.isInternal`: clients may not append to these, delete them or delete their records;
    /// only the broker writes there, in the format its loaders read back.
    public static func isInternal(_ name: String) -> Bool {
        name == offsets || name == "__transaction_state" || name == "__share_group_state"
    }
}
