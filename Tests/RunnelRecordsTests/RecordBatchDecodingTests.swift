import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

final class RecordBatchDecodingTests: XCTestCase {
    func testBuilderOutputRoundTripsForEveryCodec() throws {
        let records = [
            Record(offset: 100, timestampMs: 5_000, key: [], value: Array("first".utf8)),
            Record(offset: 101, timestampMs: 4_990, key: nil, value: nil, headers: [RecordHeader(key: "k", value: nil)]),
            Record(
                offset: 102, timestampMs: 6_000, key: Array(repeating: 7, count: 300),
                value: Array(repeating: 9, count: 70_000),
                headers: [RecordHeader(key: "ünïcode", value: [1, 2]), RecordHeader(key: "", value: [])]),
        ]
        for codec in CompressionCodec.allCases {
            var builder = RecordBatchBuilder(
                codec: codec, producerId: 77, producerEpoch: 2, baseSequence: 10, isTransactional: true,
                partitionLeaderEpoch: 4)
            for record in records { builder.append(record) }
            XCTAssertEqual(builder.nextOffset, 103)
            let buffer = try builder.build()
            let batch = try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20)
            XCTAssertEqual(batch.records, records, "\(codec)")
            XCTAssertEqual(batch.header.baseOffset, 100)
            XCTAssertEqual(batch.header.lastOffset, 102)
            XCTAssertEqual(batch.header.baseTimestampMs, 5_000)
            XCTAssertEqual(batch.header.maxTimestampMs, 6_000)
            XCTAssertEqual(batch.header.producerId, 77)
            XCTAssertEqual(batch.header.producerEpoch, 2)
            XCTAssertEqual(batch.header.baseSequence, 10)
            XCTAssertEqual(batch.header.partitionLeaderEpoch, 4)
            XCTAssertTrue(batch.header.isTransactional)
            XCTAssertEqual(batch.header.codec, codec)
            XCTAssertEqual(try RecordBatchValidator(maxMessageBytes: 1 << 20).validate(buffer), [batch.header])
        }
    }

    func testDecompressionBombInsideABatchIsRefused() throws {
        var builder = RecordBatchBuilder(codec: .zstd)
        builder.append(key: nil, value: [UInt8](repeating: 0, count: 4 << 20), timestampMs: 1)
        let buffer = try builder.build()
        XCTAssertLessThan(buffer.readableBytes, 4096)
        XCTAssertNoThrow(try RecordBatchValidator(maxMessageBytes: 4096).validate(buffer), "validation inflates within its own bound, not max.message.bytes")
        XCTAssertThrowsError(try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20)) {
            XCTAssertEqual(
                $0 as? RecordBatchError, .decompressionFailed(.outputLimitExceeded(.zstd, maxOutputBytes: 1 << 20)))
        }
    }

    func testEveryTruncationFailsToDecodeWithoutCrashing() throws {
        for codec in [CompressionCodec.none, .gzip] {
            let bytes = Array(try makeBatch(codec: codec, count: 3).readableBytesView)
            for length in 0..<bytes.count {
                XCTAssertThrowsBatchError(
                    try RecordBatch(decoding: byteBuffer(Array(bytes.prefix(length))), maxUncompressedBytes: 1 << 20),
                    kafkaErrorCode: 2)
            }
        }
    }

    func testDamagedRecordBytesUnderAValidChecksumFailCleanly() throws {
        // A producer bug, not line noise: the CRC matches but the records do not parse. Every damaged byte
        // must either decode or throw, never crash or over-allocate.
        let original = try makeBatch(count: 3)
        for index in RecordBatchHeader.sizeBytes..<original.readableBytes {
            for replacement: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                var damaged = original
                damaged.setInteger(replacement, at: index)
                try reseal(&damaged)
                do {
                    let batch = try RecordBatch(decoding: damaged, maxUncompressedBytes: 1 << 20)
                    XCTAssertEqual(batch.records.count, 3)
                } catch let error as RecordBatchError {
                    // Records that do not parse are INVALID_RECORD, as Kafka's DefaultRecord answers.
                    XCTAssertTrue([2, 87].contains(error.kafkaErrorCode), "\(error)")
                }
            }
        }
    }

    func testRecordCountDisagreeingWithTheRecordsIsMalformed() throws {
        for declared: Int32 in [2, 4] {
            var buffer = try makeBatch(count: 3)
            buffer.setInteger(declared, at: 57)
            try reseal(&buffer)
            XCTAssertThrowsError(try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20)) {
                guard case .malformedRecords = $0 as? RecordBatchError else { return XCTFail("\($0)") }
            }
        }
    }

    func testChecksumIsVerifiedUnlessTheCallerOptsOut() throws {
        var buffer = try makeBatch()
        buffer.setInteger(UInt32(1), at: 17)
        XCTAssertThrowsError(try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20))
        XCTAssertEqual(
            try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 20, verifyingChecksum: false).records.count, 3)
    }

    func testLastSequenceWrapsPastInt32Max() throws {
        var builder = RecordBatchBuilder(producerId: 1, producerEpoch: 0, baseSequence: Int32.max - 1)
        for i in 0..<4 { builder.append(key: nil, value: [UInt8(i)], timestampMs: 0) }
        let header = try RecordBatchHeader(parsing: try builder.build(), at: 0)
        XCTAssertEqual(header.lastSequence, 1)
    }

    func testVarintsMatchKafkasZigZagEncoding() {
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-64, [0x7F]), (64, [0x80, 0x01]),
            (Int64(Int32.max), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
            (Int64(Int32.min), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeKafkaVarint(Int32(value))
            XCTAssertEqual(Array(buffer.readableBytesView), bytes)
            XCTAssertEqual(buffer.readKafkaVarint(), Int32(value))
            buffer.clear()
            buffer.writeKafkaVarlong(value)
            XCTAssertEqual(Array(buffer.readableBytesView), bytes)
            XCTAssertEqual(buffer.readKafkaVarlong(), value)
        }
        var overlong = ByteBuffer(bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
        XCTAssertNil(overlong.readKafkaVarint())
        XCTAssertEqual(overlong.readerIndex, 0, "a failed read consumes nothing")
        var extreme = ByteBuffer()
        extreme.writeKafkaVarlong(Int64.min)
        XCTAssertEqual(extreme.readKafkaVarlong(), Int64.min)
    }
}
