import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

final class RecordBatchValidatorTests: XCTestCase {
    private let validator = RecordBatchValidator(maxMessageBytes: 1 << 20)

    func testBuilderOutputOfEveryCodecIsAccepted() throws {
        for codec in CompressionCodec.allCases {
            let headers = try validator.validate(try makeBatch(codec: codec, count: 5))
            XCTAssertEqual(headers.map(\.recordCount), [5])
            XCTAssertEqual(headers.map(\.codec), [codec])
        }
    }

    func testSeveralBatchesInOneBufferAreAllReturnedInOrder() throws {
        var buffer = try makeBatch(codec: .none, count: 2)
        var second = try makeBatch(codec: .zstd, count: 3)
        var third = try makeBatch(codec: .gzip, count: 1)
        buffer.writeBuffer(&second)
        buffer.writeBuffer(&third)
        let headers = try validator.validate(buffer)
        XCTAssertEqual(headers.map(\.recordCount), [2, 3, 1])
        XCTAssertEqual(headers.map(\.codec), [.none, .zstd, .gzip])
    }

    func testEmptyBufferHoldsNoBatches() throws {
        XCTAssertEqual(try validator.validate(ByteBuffer()), [])
    }

    func testAFlippedBitInsideTheChecksummedRangeOrFramingIsRejected() throws {
        let original = Array(try makeBatch(codec: .lz4, count: 4).readableBytesView)
        // baseOffset (0..<8) and partitionLeaderEpoch (12..<16) lie outside the CRC by design: the broker
        // overwrites them on append. Every other bit is covered by the length, magic or CRC checks.
        let uncovered = Set(0..<8).union(12..<16)
        for index in original.indices {
            for bit in 0..<8 {
                var damaged = original
                damaged[index] ^= 1 << bit
                if uncovered.contains(index) {
                    XCTAssertNoThrow(try validator.validate(byteBuffer(damaged)))
                } else {
                    XCTAssertThrowsError(try validator.validate(byteBuffer(damaged)), "byte \(index) bit \(bit)")
                }
            }
        }
    }

    func testEveryTruncationIsRejectedAsCorrupt() throws {
        var buffer = try makeBatch(codec: .snappy, count: 3)
        var second = try makeBatch(count: 2)
        buffer.writeBuffer(&second)
        let bytes = Array(buffer.readableBytesView)
        let firstSize = try RecordBatchHeader(parsing: buffer, at: 0).totalSize
        for length in 1..<bytes.count where length != firstSize {
            XCTAssertThrowsBatchError(try validator.validate(byteBuffer(Array(bytes.prefix(length)))), kafkaErrorCode: 2)
        }
    }

    func testCorruptChecksumMapsToCorruptMessage() throws {
        var buffer = try makeBatch()
        buffer.setInteger(UInt32(0xDEAD_BEEF), at: 17)
        XCTAssertThrowsBatchError(try validator.validate(buffer), kafkaErrorCode: 2)
    }

    func testOldMessageFormatMapsToUnsupportedForMessageFormat() throws {
        for magic: Int8 in [0, 1] {
            var buffer = try makeBatch()
            buffer.setInteger(magic, at: 16)
            XCTAssertThrowsError(try validator.validate(buffer)) {
                XCTAssertEqual($0 as? RecordBatchError, .unsupportedMagic(magic))
                XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 43)
            }
        }
        var future = try makeBatch()
        future.setInteger(Int8(3), at: 16)
        XCTAssertThrowsBatchError(try validator.validate(future), kafkaErrorCode: 2)
    }

    func testBatchOverMaxMessageBytesIsTooLarge() throws {
        let buffer = try makeBatch(count: 10)
        let size = buffer.readableBytes
        XCTAssertNoThrow(try RecordBatchValidator(maxMessageBytes: size).validate(buffer))
        XCTAssertThrowsError(try RecordBatchValidator(maxMessageBytes: size - 1).validate(buffer)) {
            XCTAssertEqual($0 as? RecordBatchError, .batchTooLarge(sizeBytes: size, maxMessageBytes: size - 1))
            XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 10)
        }
    }

    func testClientBatchWithOffsetGapIsInvalidButReplicationAcceptsIt() throws {
        var builder = RecordBatchBuilder()
        builder.append(Record(offset: 0, timestampMs: 1, key: nil, value: [1]))
        builder.append(Record(offset: 5, timestampMs: 2, key: nil, value: [2]))  // compacted away 1-4
        let buffer = try builder.build()
        XCTAssertThrowsError(try validator.validate(buffer)) {
            XCTAssertEqual($0 as? RecordBatchError, .inconsistentOffsetRange(lastOffsetDelta: 5, recordCount: 2))
            XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 87)
        }
        let replication = RecordBatchValidator(maxMessageBytes: 1 << 20, origin: .replication)
        XCTAssertEqual(try replication.validate(buffer).map(\.lastOffset), [5])
    }

    func testClientBatchWithZeroRecordsIsInvalid() throws {
        var buffer = try makeBatch(count: 1)
        buffer.setInteger(Int32(0), at: 57)
        buffer.setInteger(Int32(-1), at: 23)
        try reseal(&buffer)
        XCTAssertThrowsBatchError(try validator.validate(buffer), kafkaErrorCode: 87)
    }

    func testRecordCountLargerThanTheBytesCanHoldIsInvalid() throws {
        var buffer = try makeBatch(count: 2)
        buffer.setInteger(Int32(1_000_000), at: 57)
        buffer.setInteger(Int32(999_999), at: 23)
        try reseal(&buffer)
        XCTAssertThrowsError(try validator.validate(buffer)) {
            XCTAssertEqual($0 as? RecordBatchError, .invalidRecordCount(1_000_000))
        }
    }

    func testControlBatchFromAClientIsInvalid() throws {
        var builder = RecordBatchBuilder(producerId: 7, producerEpoch: 0, isTransactional: true, isControl: true)
        builder.append(key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 0], timestampMs: 5)
        let buffer = try builder.build()
        XCTAssertThrowsError(try validator.validate(buffer)) {
            XCTAssertEqual($0 as? RecordBatchError, .controlBatchFromClient)
        }
        XCTAssertTrue(try RecordBatchValidator(maxMessageBytes: 1 << 20, origin: .replication).validate(buffer)[0].isControl)
    }

    func testUnknownCodecIdIsCorrupt() throws {
        var buffer = try makeBatch()
        buffer.setInteger(Int16(6), at: 21)
        try reseal(&buffer)
        XCTAssertThrowsError(try validator.validate(buffer)) { XCTAssertEqual($0 as? RecordBatchError, .unknownCodec(6)) }
    }

    func testBatchLengthBelowTheHeaderIsCorrupt() throws {
        var buffer = try makeBatch()
        buffer.setInteger(Int32(48), at: 8)
        XCTAssertThrowsError(try validator.validate(buffer)) {
            XCTAssertEqual($0 as? RecordBatchError, .batchLengthTooSmall(48))
        }
    }

    func testBaseOffsetThatWouldOverflowIsInvalidNotACrash() throws {
        var buffer = try makeBatch(count: 3)
        buffer.setInteger(Int64.max - 1, at: 0)  // outside the CRC: no reseal needed
        XCTAssertThrowsBatchError(try validator.validate(buffer), kafkaErrorCode: 87)
        XCTAssertEqual(try RecordBatchHeader(parsing: buffer).lastOffset, Int64.min, "wraps, does not trap")
    }
}
