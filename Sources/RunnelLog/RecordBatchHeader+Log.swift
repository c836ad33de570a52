import NIOCore
import RunnelRecords

extension RecordBatchHeader {
    /// The header of the batch at `index`, or nil unless it is a v2 header whose offsets the log can
    /// store (a torn or zero-filled tail fails here).
    static func parsedForLog(_ buffer: ByteBuffer, at index: Int) -> RecordBatchHeader? {
        guard let header = try? RecordBatchHeader(parsing: buffer, at: index), header.hasStorableOffsets else { return nil }
        return header
    }

    var hasStorableOffsets: Bool {
        baseOffset >= 0 && lastOffsetDelta >= 0 && recordCount >= 0 && baseOffset < Int64.max - Int64(lastOffsetDelta)
    }
}
