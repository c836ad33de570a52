import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

final class RecordBatchStampingTests: XCTestCase {
    private func threeBatches() throws -> ByteBuffer {
        var buffer = try makeBatch(codec: .none, count: 2)
        var second = try makeBatch(codec: .lz4, count: 3)
        var third = try makeBatch(codec: .zstd, count: 1)
        buffer.writeBuffer(&second)
        buffer.writeBuffer(&third)
        return buffer
    }

    /// Stamps `buffer`'s batches and returns them whole, as the log writes them.
    private func stamp(_ buffer: ByteBuffer, baseOffset: Int64, epoch: Int32, logAppendTimeMs: Int64? = nil) throws
        -> (batches: ByteBuffer, stamped: StampedHeaders)
    {
        let stamped = try RecordBatchStamping.stampedHeaders(
            for: buffer, baseOffset: baseOffset, partitionLeaderEpoch: epoch, logAppendTimeMs: logAppendTimeMs)
        return (RecordBatchStamping.applying(stamped, to: buffer), stamped)
    }

    func testAssigningOffsetsGivesConsecutiveRangesAndKeepsTheChecksumsValid() throws {
        let received = try threeBatches()
        let before = try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(received)
        let (buffer, stamped) = try stamp(received, baseOffset: 1_000, epoch: 7)
        XCTAssertEqual(stamped.nextOffset, 1_006)
        XCTAssertEqual(stamped.bytes.readableBytes, 3 * RecordBatchHeader.sizeBytes, "only the headers are new bytes")
        XCTAssertEqual(received, try threeBatches(), "the received batches are never written to")

        var iterator = RecordBatchIterator(buffer, verifyingChecksums: true)
        let headers = try iterator.collect().map(\.header)
        XCTAssertEqual(headers.map(\.baseOffset), [1_000, 1_002, 1_005])
        XCTAssertEqual(headers.map(\.lastOffset), [1_001, 1_004, 1_005])
        XCTAssertEqual(headers.map(\.partitionLeaderEpoch), [7, 7, 7])
        XCTAssertEqual(headers.map(\.crc), before.map(\.crc), "offsets and epoch lie outside the CRC")
        XCTAssertEqual(stamped.headers, headers)

        var entries = RecordBatchIterator(buffer)
        var decodedOffsets: [Int64] = []
        while let entry = try entries.next() {
            let batch = try RecordBatch(decoding: entry.bytes, maxUncompressedBytes: 1 << 20)
            decodedOffsets += batch.records.map(\.offset)
        }
        XCTAssertEqual(decodedOffsets, Array(1_000..<1_006))
    }

    func testLogAppendTimeStampingSetsTheTypeAndMaxTimestampAndRecomputesTheChecksum() throws {
        let received = try threeBatches()
        let before = try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(received)
        let (buffer, _) = try stamp(received, baseOffset: 0, epoch: 1, logAppendTimeMs: 1_234_567)
        let after = try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(buffer)
        XCTAssertEqual(after.map(\.timestampType), [.logAppendTime, .logAppendTime, .logAppendTime])
        XCTAssertEqual(after.map(\.maxTimestampMs), [1_234_567, 1_234_567, 1_234_567])
        XCTAssertEqual(after.map(\.codec), before.map(\.codec), "batches stay compressed as sent")
        XCTAssertEqual(after.map(\.baseTimestampMs), before.map(\.baseTimestampMs))
        for (old, new) in zip(before, after) { XCTAssertNotEqual(old.crc, new.crc) }

        let firstSize = after[0].totalSize
        let records = try RecordBatch(decoding: buffer, at: firstSize, maxUncompressedBytes: 1 << 20).records
        XCTAssertEqual(records.map(\.timestampMs), [1_234_567, 1_234_567, 1_234_567])
        XCTAssertEqual(records.map(\.value), (0..<3).map { Array("value-\($0)".utf8) })
    }

    func testStampingATruncatedBufferThrowsInsteadOfWritingPastIt() throws {
        let full = try makeBatch()
        let truncated = full.getSlice(at: 0, length: full.readableBytes - 1)!
        XCTAssertThrowsBatchError(
            try RecordBatchStamping.stampedHeaders(for: truncated, baseOffset: 0, partitionLeaderEpoch: 0),
            kafkaErrorCode: 2)
    }

    func testNegativeLastOffsetDeltaIsRefusedRatherThanRewindingOffsets() throws {
        var buffer = try makeBatch(count: 1)
        buffer.setInteger(Int32(-5), at: 23)
        try reseal(&buffer)
        XCTAssertThrowsBatchError(
            try RecordBatchStamping.stampedHeaders(for: buffer, baseOffset: 10, partitionLeaderEpoch: 0),
            kafkaErrorCode: 87)
    }
}
