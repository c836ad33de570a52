import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

/// Batches built by kafka-python, an implementation independent of ours (its own CRC-32C, varints, codecs).
final class KafkaPythonBatchTests: XCTestCase {
    func testKafkaPythonBatchesOfEveryCodecParseValidateAndDecode() throws {
        XCTAssertEqual(Set(IndependentFixtures.kafkaPythonBatches.keys), Set(CompressionCodec.allCases.map(\.description)))
        for codec in CompressionCodec.allCases {
            let bytes = base64Bytes(try XCTUnwrap(IndependentFixtures.kafkaPythonBatches[codec.description]))
            let buffer = byteBuffer(bytes)

            let header = try RecordBatchHeader(parsing: buffer, at: 0)
            XCTAssertEqual(header.codec, codec)
            XCTAssertEqual(header.totalSize, bytes.count)
            XCTAssertEqual(header.magic, 2)
            XCTAssertEqual(header.recordCount, 3)
            XCTAssertEqual(header.lastOffsetDelta, 2)
            XCTAssertEqual(header.producerId, 42)
            XCTAssertEqual(header.producerEpoch, 3)
            XCTAssertEqual(header.baseSequence, 7)
            XCTAssertEqual(header.lastSequence, 9)
            XCTAssertEqual(header.baseTimestampMs, 1_700_000_000_000)
            XCTAssertEqual(header.maxTimestampMs, 1_700_000_000_005)
            XCTAssertEqual(header.timestampType, .createTime)
            XCTAssertFalse(header.isTransactional)
            XCTAssertFalse(header.isControl)
            XCTAssertEqual(try header.computeChecksum(in: buffer, at: 0), header.crc, "CRC-32C agrees with kafka-python")

            let validated = try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(buffer)
            XCTAssertEqual(validated, [header])

            let batch = try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20)
            XCTAssertEqual(batch.records, kafkaPythonExpectedRecords, "\(codec)")
        }
    }

    func testKafkaPythonTransactionalBatchHasTheTransactionalBit() throws {
        let buffer = byteBuffer(base64Bytes(IndependentFixtures.kafkaPythonTransactionalBatch))
        let headers = try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(buffer)
        XCTAssertEqual(headers.count, 1)
        XCTAssertTrue(headers[0].isTransactional)
        XCTAssertEqual(headers[0].producerId, 9000)
        let batch = try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20)
        XCTAssertEqual(batch.records.map(\.value), [Array("in-a-transaction".utf8)])
    }

    func testOurBuilderReproducesKafkaPythonsUncompressedBatchByteForByte() throws {
        var builder = RecordBatchBuilder(producerId: 42, producerEpoch: 3, baseSequence: 7)
        for record in kafkaPythonExpectedRecords { builder.append(record) }
        let ours = try builder.build()
        let theirs = base64Bytes(try XCTUnwrap(IndependentFixtures.kafkaPythonBatches["none"]))
        // kafka-python writes partition leader epoch 0 where we write the "unknown" -1; the broker stamps it.
        var expected = theirs
        expected.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(Array(ours.readableBytesView), expected)
    }
}
