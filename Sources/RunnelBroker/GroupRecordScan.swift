import Logging
import NIOCore
import RunnelGroups
import RunnelRecords

/// The group records found in reads of `__consumer_offsets`, and the records that could not be read.
/// Kafka's loader fails the partition's load on a record it cannot deserialize; here that would stop
/// every later start of the broker (a client could produce such a record into the topic), so an
/// unreadable record is skipped, counted and logged with its offsets, and the rest loads. Nothing is
/// removed from the log.
struct GroupRecordScan {
    /// Group records in log order, what `GroupCoordinatorCore.load` wants.
    private(set) var records: [GroupRecord] = []
    /// Every record skipped.
    private(set) var unreadableCount = 0
    /// The first skips with their offsets and reasons, for the log; bounded so that a log full of them
    /// cannot flood it or hold memory.
    private(set) var unreadable: [(offsets: ClosedRange<Int64>, reason: String)] = []
    static let unreadableListedMax = 100
    /// The most a batch of the offsets topic may inflate to (a bound against decompression bombs).
    static let uncompressedBytesMax = 64 << 20

    /// Decodes the complete batches in `buffer` (a read starting at the batch that holds `offset`),
    /// keeping records at or after `offset`. Returns the offset after the last batch, nil when the
    /// buffer held none. A batch whose bytes cannot be decoded (checksum, compression, malformed
    /// records) is skipped whole: its records cannot be told apart. Throws only when the walk itself
    /// breaks (a batch header that does not parse), which the log's recovery should have prevented.
    mutating func scan(_ buffer: ByteBuffer, from offset: Int64) throws -> Int64? {
        var iterator = RecordBatchIterator(buffer)
        var next: Int64?
        while let entry = try iterator.next() {
            let header = entry.header
            next = header.nextOffset
            // Transaction markers hold no group state (Kafka replays them apart; there are no transactions here).
            guard header.lastOffset >= offset, !header.isControl else { continue }
            let batch: RecordBatch
            do {
                batch = try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: Self.uncompressedBytesMax)
            } catch {
                let first = max(header.baseOffset, offset)
                // The header's count is the producer's claim; the offsets are the log's.
                skip(first...max(first, header.lastOffset), records: max(1, Int(header.recordCount)), reason: "\(error)")
                continue
            }
            for record in batch.records where record.offset >= offset {
                guard let key = record.key else {
                    skip(record.offset...record.offset, records: 1, reason: "a record without a key")
                    continue
                }
                guard let decoded = GroupRecord.decode(key: key, value: record.value) else {
                    skip(record.offset...record.offset, records: 1, reason: "not a group record this broker reads")
                    continue
                }
                records.append(decoded)
            }
        }
        return next
    }

    private mutating func skip(_ offsets: ClosedRange<Int64>, records: Int, reason: String) {
        unreadableCount += records
        if unreadable.count < Self.unreadableListedMax { unreadable.append((offsets, reason)) }
    }

    /// Logs every listed skip and the count, as errors: groups and offsets in those records are not loaded.
    func report(to logger: Logger, topic: String) {
        guard unreadableCount > 0 else { return }
        for (offsets, reason) in unreadable {
            let at = offsets.count == 1 ? "offset \(offsets.lowerBound)" : "offsets \(offsets.lowerBound)...\(offsets.upperBound)"
            logger.error("skipped unreadable record at \(at) of \(topic): \(reason)")
        }
        logger.error(
            "group coordinator skipped \(unreadableCount) unreadable records of \(topic) (\(unreadable.count) listed above); the groups and offsets they held are not loaded")
    }
}
