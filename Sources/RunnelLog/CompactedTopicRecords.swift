import NIOCore
import RunnelRecords

/// What a compacted topic requires of produced records: a key on every data record (Kafka answers
/// INVALID_RECORD otherwise, since the cleaner could never decide which record of a key to keep).
public enum CompactedTopicRecords {
    /// Whether any data record in the whole batches of `buffer` has a null key. Batches that cannot be
    /// taken apart count as keyless, so that they are refused rather than stored.
    public static func containsRecordWithoutKey(_ buffer: ByteBuffer, maxUncompressedBytes: Int) -> Bool {
        var iterator = RecordBatchIterator(buffer)
        while true {
            let entry: RecordBatchIterator.Entry
            do {
                guard let next = try iterator.next() else { return false }
                entry = next
            } catch {
                return true
            }
            if entry.header.isControl { continue }
            let bytes = entry.bytes.getBytes(at: entry.bytes.readerIndex, length: entry.bytes.readableBytes) ?? []
            guard let batch = try? ScannedBatch(stored: bytes, header: entry.header, maxUncompressedBytes: maxUncompressedBytes) else {
                return true
            }
            if batch.records.contains(where: { $0.key == nil }) { return true }
        }
    }
}
