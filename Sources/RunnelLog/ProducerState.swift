import RunnelRecords

/// One appended batch of an idempotent producer, as remembered for deduplication.
public struct ProducerBatch: Equatable, Sendable {
    public let firstSequence: Int32
    public let lastSequence: Int32
    public let firstOffset: Int64
    public let lastOffset: Int64
}

/// What the log knows of one producer on one partition: its epoch and its last batches.
public struct ProducerEntry: Equatable, Sendable {
    public var epoch: Int16
    /// Oldest first, at most `ProducerStateTable.batchesRetained` (Kafka keeps five: the most a client
    /// may have in flight per partition).
    public var batches: [ProducerBatch]
}

/// How a leader append of one batch stands against the producer's state.
public enum ProducerCheck: Equatable, Sendable {
    /// Append it.
    case append
    /// A retry of a batch already in the log: answer with its offsets, append nothing.
    case duplicate(ProducerBatch)
}

/// Per producer id state of one partition, built only by applying appended batches (leader and
/// follower alike), so every replica derives the same table from the same log. Pure: no I/O.
public struct ProducerStateTable: Equatable, Sendable {
    public static let batchesRetained = 5
    /// About 200 bytes each: at most ~20 MB per partition by default. Beyond it the producer that
    /// appended longest ago is forgotten (Kafka expires idle producers by time instead); the choice
    /// depends only on the batches applied, so every replica forgets the same one.
    public static let defaultProducersMax = 100_000
    public private(set) var producers: [Int64: ProducerEntry] = [:]
    public let producersMax: Int

    public init(producersMax: Int = Self.defaultProducersMax) {
        precondition(producersMax > 0)
        self.producersMax = producersMax
    }

    init(producers: [Int64: ProducerEntry], producersMax: Int = Self.defaultProducersMax) {
        precondition(producers.values.allSatisfy { $0.batches.count <= Self.batchesRetained })
        self.producersMax = max(producersMax, producers.count)
        self.producers = producers
    }

    public subscript(producerId: Int64) -> ProducerEntry? { producers[producerId] }

    /// Checks a batch a client asks the leader to append. Kafka's rules: a retry of one of the last
    /// batches is a duplicate; an older epoch is fenced; a newer epoch (or an unknown producer) must start
    /// at sequence 0; within an epoch the first sequence must follow the last one (wrapping at Int32.max).
    public func check(_ header: RecordBatchHeader) throws(LogError) -> ProducerCheck {
        guard header.hasProducerId else { return .append }
        let id = header.producerId
        guard let entry = producers[id] else {
            guard header.baseSequence == 0 else {
                throw .outOfOrderSequence("producer \(id) is unknown here and its batch starts at sequence \(header.baseSequence), not 0")
            }
            return .append
        }
        if header.producerEpoch < entry.epoch {
            throw .invalidProducerEpoch("producer \(id) epoch \(header.producerEpoch) is older than the current \(entry.epoch)")
        }
        if header.producerEpoch > entry.epoch {
            guard header.baseSequence == 0 else {
                throw .outOfOrderSequence("producer \(id) epoch \(header.producerEpoch) must start at sequence 0, not \(header.baseSequence)")
            }
            return .append
        }
        if let original = entry.batches.first(where: {
            $0.firstSequence == header.baseSequence && $0.lastSequence == header.lastSequence
        }) {
            return .duplicate(original)
        }
        guard let last = entry.batches.last else {
            guard header.baseSequence == 0 else {
                throw .outOfOrderSequence("producer \(id) has no batches here; sequence \(header.baseSequence) is not 0")
            }
            return .append
        }
        let expected = last.lastSequence == Int32.max ? 0 : last.lastSequence + 1
        guard header.baseSequence == expected else {
            throw .outOfOrderSequence("producer \(id) epoch \(entry.epoch): expected sequence \(expected), got \(header.baseSequence)")
        }
        return .append
    }

    /// Records an appended batch (with its final offsets). A newer epoch replaces the producer's batches.
    public mutating func apply(_ header: RecordBatchHeader) {
        guard header.hasProducerId, !header.isControl else { return }
        let batch = ProducerBatch(firstSequence: header.baseSequence, lastSequence: header.lastSequence,
                                  firstOffset: header.baseOffset, lastOffset: header.lastOffset)
        var entry = producers[header.producerId] ?? ProducerEntry(epoch: header.producerEpoch, batches: [])
        if header.producerEpoch != entry.epoch {
            entry = ProducerEntry(epoch: header.producerEpoch, batches: [])
        }
        entry.batches.append(batch)
        if entry.batches.count > Self.batchesRetained { entry.batches.removeFirst(entry.batches.count - Self.batchesRetained) }
        precondition(entry.batches.count <= Self.batchesRetained)
        let isNew = producers.updateValue(entry, forKey: header.producerId) == nil
        if isNew && producers.count > producersMax { evictOldest(sparing: header.producerId) }
        precondition(producers.count <= producersMax)
    }

    /// Forgets the producer whose last batch is oldest (an O(n) scan, only once the table is full).
    private mutating func evictOldest(sparing id: Int64) {
        let oldest = producers.filter { $0.key != id }.min { a, b in
            (a.value.batches.last?.lastOffset ?? -1, a.key) < (b.value.batches.last?.lastOffset ?? -1, b.key)
        }
        if let oldest { producers[oldest.key] = nil }
    }
}
