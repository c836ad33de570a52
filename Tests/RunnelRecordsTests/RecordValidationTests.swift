import NIOCore
import RunnelCompression
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
}
