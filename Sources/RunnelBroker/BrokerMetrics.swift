import CoreMetrics
import RunnelMetadata
import Synchronization

/// The broker's own figures: bytes and records in and out per topic, and each partition's log end
/// offset and high watermark. Metric objects are made on first use and kept while their topic exists:
/// a deleted topic's series are destroyed with it, so there are never more than the topics and
/// partitions this broker hosts.
public final class BrokerMetrics: Sendable {
    private struct Topic {
        let bytesIn: Counter
        let recordsIn: Counter
        let bytesOut: Counter
    }

    private struct PartitionGauges {
        let logEndOffset: Gauge
        let highWatermark: Gauge
    }

    private let factory: MetricsFactory
    private let topics = Mutex<[String: Topic]>([:])
    private let partitions = Mutex<[TopicPartition: PartitionGauges]>([:])
    let produceErrors: Counter
    let cleanerPasses: Counter
    let cleanerBytesRead: Counter
    let cleanerBytesRemoved: Counter

    public init(factory: MetricsFactory) {
        self.factory = factory
        produceErrors = Counter(label: "runnel_produce_errors_total", factory: factory)
        cleanerPasses = Counter(label: "runnel_log_cleaner_passes_total", factory: factory)
        cleanerBytesRead = Counter(label: "runnel_log_cleaner_bytes_read_total", factory: factory)
        cleanerBytesRemoved = Counter(label: "runnel_log_cleaner_bytes_removed_total", factory: factory)
    }

    /// One cleaning pass that ran: the bytes it read and the bytes it freed.
    func recordCleaning(bytesRead: Int64, bytesRemoved: Int64) {
        cleanerPasses.increment()
        cleanerBytesRead.increment(by: Int(max(bytesRead, 0)))
        cleanerBytesRemoved.increment(by: Int(max(bytesRemoved, 0)))
    }

    private func topic(_ name: String) -> Topic {
        topics.withLock { table in
            if let existing = table[name] { return existing }
            let dimensions = [("topic", name)]
            let made = Topic(
                bytesIn: Counter(label: "runnel_topic_bytes_in_total", dimensions: dimensions, factory: factory),
                recordsIn: Counter(label: "runnel_topic_records_in_total", dimensions: dimensions, factory: factory),
                bytesOut: Counter(label: "runnel_topic_bytes_out_total", dimensions: dimensions, factory: factory))
            table[name] = made
            return made
        }
    }

    func recordAppend(_ tp: TopicPartition, bytes: Int, records: Int) {
        let metrics = topic(tp.topic)
        metrics.bytesIn.increment(by: bytes)
        metrics.recordsIn.increment(by: records)
    }

    func recordFetch(topic name: String, bytes: Int) {
        guard bytes > 0 else { return }
        topic(name).bytesOut.increment(by: bytes)
    }

    /// Destroys the series of every topic not in `existing`, and their partitions' gauges.
    func forgetTopics(notIn existing: Set<String>) {
        let gone = topics.withLock { table in
            let names = table.keys.filter { !existing.contains($0) }
            return names.compactMap { table.removeValue(forKey: $0) }
        }
        for topic in gone {
            topic.bytesIn.destroy()
            topic.recordsIn.destroy()
            topic.bytesOut.destroy()
        }
        let goneGauges = partitions.withLock { table in
            let keys = table.keys.filter { !existing.contains($0.topic) }
            return keys.compactMap { table.removeValue(forKey: $0) }
        }
        for gauges in goneGauges {
            gauges.logEndOffset.destroy()
            gauges.highWatermark.destroy()
        }
    }

    /// Destroys one partition's gauges (its replica left this broker, or was replaced by a new topic's).
    func forgetPartition(_ tp: TopicPartition) {
        guard let gauges = partitions.withLock({ $0.removeValue(forKey: tp) }) else { return }
        gauges.logEndOffset.destroy()
        gauges.highWatermark.destroy()
    }

    func recordOffsets(_ tp: TopicPartition, logEndOffset: Int64, highWatermark: Int64) {
        let gauges = partitions.withLock { table in
            if let existing = table[tp] { return existing }
            let dimensions = [("topic", tp.topic), ("partition", String(tp.partition))]
            let made = PartitionGauges(
                logEndOffset: Gauge(label: "runnel_log_end_offset", dimensions: dimensions, factory: factory),
                highWatermark: Gauge(label: "runnel_high_watermark", dimensions: dimensions, factory: factory))
            table[tp] = made
            return made
        }
        gauges.logEndOffset.record(logEndOffset)
        gauges.highWatermark.record(highWatermark)
    }
}
