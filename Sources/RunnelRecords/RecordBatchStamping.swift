import NIOCore
import RunnelChecksum

/// A leader's stamp on validated batches, kept compressed as sent: new copies of their headers only.
///
/// The records stay in the request's buffer, which shares storage with the connection's read buffer;
/// writing into it would copy the whole request (copy-on-write), so the log writes each stamped header
/// followed by the rest of its batch from the request (a gather write).
public struct StampedHeaders: Sendable {
    /// Each batch's first `RecordBatchHeader.sizeBytes` bytes, stamped, in batch order.
    public let bytes: ByteBuffer
    /// The same headers, parsed.
    public let headers: [RecordBatchHeader]
    /// The offset after the last batch.
    public let nextOffset: Int64
}

public enum RecordBatchStamping {
    /// Gives the batches in the readable bytes of `batches` consecutive offsets from `baseOffset` and the
    /// leader's epoch. Both fields lie outside the CRC, so the stored CRC stays valid. With
    /// `logAppendTimeMs` (topics with LogAppendTime) each batch is also marked LogAppendTime with that max
    /// timestamp; those fields are inside the CRC, which is recomputed over the new header bytes and the
    /// batch's own records. `batches` must hold whole batches (run `RecordBatchValidator` first).
    public static func stampedHeaders(
        for batches: ByteBuffer, baseOffset: Int64, partitionLeaderEpoch: Int32, logAppendTimeMs: Int64? = nil
    ) throws -> StampedHeaders {
        precondition(baseOffset >= 0, "negative base offset")
        let headerBytes = RecordBatchHeader.sizeBytes
        var stamped = ByteBuffer()
        var headers: [RecordBatchHeader] = []
        var nextOffset = baseOffset
        var index = batches.readerIndex
        while index < batches.writerIndex {
            let header = try RecordBatchHeader(parsing: batches, at: index)
            let available = batches.writerIndex - index
            guard available >= header.totalSize else {
                throw RecordBatchError.truncated(index: index, neededBytes: header.totalSize, availableBytes: available)
            }
            guard header.lastOffsetDelta >= 0 else {
                throw RecordBatchError.inconsistentOffsetRange(
                    lastOffsetDelta: header.lastOffsetDelta, recordCount: header.recordCount)
            }
            let at = stamped.writerIndex
            stamped.writeImmutableBuffer(batches.getSlice(at: index, length: headerBytes)!)
            stamped.setInteger(nextOffset, at: at + RecordBatchLayout.baseOffset)
            stamped.setInteger(partitionLeaderEpoch, at: at + RecordBatchLayout.partitionLeaderEpoch)
            if let logAppendTimeMs {
                stampLogAppendTime(header: &stamped, at: at, parsed: header, logAppendTimeMs: logAppendTimeMs,
                                   records: batches.viewBytes(at: index + headerBytes, length: header.totalSize - headerBytes)!)
            }
            headers.append(try RecordBatchHeader(parsing: stamped, at: at))
            let (next, overflow) = nextOffset.addingReportingOverflow(Int64(header.lastOffsetDelta) + 1)
            precondition(!overflow, "offset range overflows Int64")
            nextOffset = next
            index += header.totalSize
        }
        return StampedHeaders(bytes: stamped, headers: headers, nextOffset: nextOffset)
    }

    /// The batches with their headers replaced by `stamped`'s: one new buffer (a copy of everything).
    public static func applying(_ stamped: StampedHeaders, to batches: ByteBuffer) -> ByteBuffer {
        let headerBytes = RecordBatchHeader.sizeBytes
        var out = ByteBuffer()
        out.reserveCapacity(batches.readableBytes)
        var index = batches.readerIndex
        for (position, header) in stamped.headers.enumerated() {
            out.writeImmutableBuffer(stamped.bytes.getSlice(at: stamped.bytes.readerIndex + position * headerBytes, length: headerBytes)!)
            out.writeImmutableBuffer(batches.getSlice(at: index + headerBytes, length: header.totalSize - headerBytes)!)
            index += header.totalSize
        }
        return out
    }

    private static func stampLogAppendTime(
        header buffer: inout ByteBuffer, at index: Int, parsed header: RecordBatchHeader, logAppendTimeMs: Int64,
        records: ByteBufferView
    ) {
        let attributes = header.attributes | RecordBatchLayout.logAppendTimeFlag
        // Skip the CRC pass when a retried append finds the batch already stamped the same way.
        if attributes == header.attributes && header.maxTimestampMs == logAppendTimeMs { return }
        buffer.setInteger(attributes, at: index + RecordBatchLayout.attributes)
        buffer.setInteger(logAppendTimeMs, at: index + RecordBatchLayout.maxTimestamp)
        let start = index + RecordBatchLayout.checksumStart
        let headerTail = buffer.viewBytes(at: start, length: RecordBatchHeader.sizeBytes - RecordBatchLayout.checksumStart)!
        let crc = CRC32C.checksum(records, extending: CRC32C.checksum(headerTail))
        buffer.setInteger(crc, at: index + RecordBatchLayout.crc)
    }
}
