import NIOCore
import RunnelCompression
import RunnelTestSupport
import XCTest

@testable import RunnelRecords

/// Record-level validation of produced batches (issue 12, item 1), as Kafka's LogValidator does it:
/// every record's lengths, varints and offset delta must fit the batch, and the count must match.
final class RecordValidationTests: XCTestCase {
    private let validator = RecordBatchValidator(maxMessageBytes: 1 << 20)

    func testEveryPoisonIsRefusedAsAnInvalidRecord() {
        for (name, poison) in PoisonBatch.named {
            XCTAssertThrowsError(try validator.validate(poison), name) {
                XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 87, "\(name): \($0)")
            }
        }
    }

    func testTheValidatorAcceptsOnlyBatchesWhoseRecordsDecode() throws {
        // Every damaged byte under a valid CRC: whatever the validator lets through must decode.
        for codec in [CompressionCodec.none, .lz4] {
            let original = try makeBatch(codec: codec, count: 3)
            let end = codec == .none ? original.readableBytes : RecordBatchHeader.sizeBytes
            for index in RecordBatchHeader.sizeBytes..<end {
                for replacement: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                    var damaged = original
                    damaged.setInteger(replacement, at: index)
                    try reseal(&damaged)
                    guard (try? validator.validate(damaged)) != nil else { continue }
                    XCTAssertNoThrow(try RecordBatch(decoding: damaged, maxUncompressedBytes: 1 << 20),
                                     "byte \(index) set to \(replacement) passed validation")
                }
            }
        }
    }

    func testOffsetDeltasMustCountUpFromZero() throws {
        let records = (0..<3).map { PoisonBatch.record(offsetDelta: Int64($0), key: [UInt8($0)], value: [1]) }
        XCTAssertNoThrow(try validator.validate(PoisonBatch.batch(records)))
        let skipping = [0, 2, 3].map { PoisonBatch.record(offsetDelta: Int64($0), key: [UInt8($0)], value: [1]) }
        XCTAssertThrowsBatchError(try validator.validate(PoisonBatch.batch(skipping, lastOffsetDelta: 2)), kafkaErrorCode: 87)
    }

    func testACompactedTopicRefusesRecordsWithoutAKeyInEveryCodec() throws {
        let compacted = RecordBatchValidator(maxMessageBytes: 1 << 20, requiresKeys: true)
        for codec in [CompressionCodec.none, .gzip, .snappy, .lz4, .zstd] {
            var builder = RecordBatchBuilder(codec: codec)
            builder.append(key: Array("k".utf8), value: [1], timestampMs: 1)
            XCTAssertNoThrow(try compacted.validate(try builder.build()), "\(codec)")
            builder.append(key: nil, value: [2], timestampMs: 2)
            XCTAssertThrowsError(try compacted.validate(try builder.build()), "\(codec)") {
                XCTAssertEqual($0 as? RecordBatchError, .recordWithoutKey)
                XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 87)
            }
            XCTAssertNoThrow(try validator.validate(try builder.build()), "keys are the compacted topic's rule only")
        }
    }

    func testInflationIsBoundedByTheValidatorNotByTheBatchSize() throws {
        var builder = RecordBatchBuilder(codec: .zstd)
        builder.append(key: [1], value: [UInt8](repeating: 0, count: 4 << 20), timestampMs: 1)
        let bomb = try builder.build()
        XCTAssertLessThan(bomb.readableBytes, 4096)
        let bounded = RecordBatchValidator(maxMessageBytes: Int(Int32.max), uncompressedBytesMax: 1 << 20)
        XCTAssertThrowsError(try bounded.validate(bomb)) {
            XCTAssertEqual($0 as? RecordBatchError, .decompressionFailed(.outputLimitExceeded(.zstd, maxOutputBytes: 1 << 20)))
            XCTAssertEqual(($0 as? RecordBatchError)?.kafkaErrorCode, 10, "MESSAGE_TOO_LARGE: a producer splits the batch")
        }
        XCTAssertNoThrow(try RecordBatchValidator(maxMessageBytes: 4096, uncompressedBytesMax: 8 << 20).validate(bomb))
    }

    func testReplicatedBatchesAreNotWalked() throws {
        // A follower stores what its leader validated (and compacted: gaps, empty batches), as Kafka's do.
        let replication = RecordBatchValidator(maxMessageBytes: 1 << 20, origin: .replication, uncompressedBytesMax: 0)
        XCTAssertNoThrow(try replication.validate(try makeBatch(codec: .zstd)))
    }
}
