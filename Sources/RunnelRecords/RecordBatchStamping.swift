import NIOCore
import RunnelChecksum

/// Rewrites validated batches in place for the append path, keeping them compressed as sent.
public enum RecordBatchStamping {
    /// Gives the batches in the readable bytes of `buffer` consecutive offsets from `baseOffset` and the
    /// leader's epoch, and returns the offset after the last batch. Both fields lie outside the CRC, so the
    /// stored CRC stays valid. With `logAppendTimeMs` (topics with LogAppendTime) each batch is also
    /// marked LogAppendTime with that max timestamp; those fields are inside the CRC, which is recomputed.
    /// The buffer must hold whole batches (run `RecordBatchValidator` first); if this throws anyway,
    /// earlier batches may already be stamped and the buffer should be discarded.
    public static func assignOffsets(
        in buffer: inout ByteBuffer, baseOffset: Int64, partitionLeaderEpoch: Int32, logAppendTimeMs: Int64? = nil
    ) throws -> Int64 {
        precondition(baseOffset >= 0, "negative base offset")
        var nextOffset = baseOffset
        var index = buffer.readerIndex
        while index < buffer.writerIndex {
            let header = try RecordBatchHeader(parsing: buffer, at: index)
            let available = buffer.writerIndex - index
            guard available >= header.totalSize else {
                throw RecordBatchError.truncated(index: index, neededBytes: header.totalSize, availableBytes: available)
            }
            guard header.lastOffsetDelta >= 0 else {
                throw RecordBatchError.inconsistentOffsetRange(
                    lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount)
            }
            buffer.setInteger(nextOffset, at: index + RecordBatchLayout.baseOffset)
            buffer.setInteger(partitionLeaderEpoch, at: index + RecordBatchLayout.partitionLeaderEpoch)
            if let logAppendTimeMs {
                stampLogAppendTime(in: &buffer, at: index, header: header, logAppendTimeMs: logAppendTimeMs)
            }
            let (next, overflow) = nextOffset.addingReportingOverflow(Int64(header.lastOffsetDelta) + 1)
            precondition(!overflow, "offset range overflows Int64")
            nextOffset = next
            index += header.totalSize
        }
        return nextOffset
    }

    private static func stampLogAppendTime(
        in buffer: inout ByteBuffer, at index: Int, header: RecordBatchHeader, logAppendTimeMs: Int64
    ) {
        let attributes = header.attributes | RecordBatchLayout.logAppendTimeFlag
        // Skip the CRC pass when a retried append finds the batch already stamped the same way.
        if attributes == header.attributes && header.maxTimestampMs == logAppendTimeMs { return }
        buffer.setInteger(attributes, at: index + RecordBatchLayout.attributes)
        buffer.setInteger(logAppendTimeMs, at: index + RecordBatchLayout.maxTimestamp)
        let start = index + RecordBatchLayout.checksumStart
        let crc = CRC32C.checksum(buffer.viewBytes(at: start, length: header.totalSize - RecordBatchLayout.checksumStart)!)
        buffer.setInteger(crc, at: index + RecordBatchLayout.crc)
    }
}
