import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

final class RecordBatchBuilderTests: XCTestCase {
    func testUncompressedSizeMatchesTheBuiltBatch() throws {
        var builder = RecordBatchBuilder()
        XCTAssertEqual(builder.uncompressedSizeBytes, 61)
        builder.append(key: Array("k".utf8), value: Array(repeating: 1, count: 200), timestampMs: 1_000)
        builder.append(key: nil, value: nil, headers: [RecordHeader(key: "hé", value: [1])], timestampMs: 900)
        builder.append(Record(offset: 70, timestampMs: 5_000_000, key: [], value: Array(repeating: 2, count: 20_000)))
        XCTAssertEqual(builder.uncompressedSizeBytes, try builder.build().readableBytes)
    }

    func testTransactionMarkerBatchRoundTrips() throws {
        let marker = TransactionMarker(kind: .commit, coordinatorEpoch: 0x0102_0304)
        XCTAssertEqual(marker.recordKey, [0, 0, 0, 1])
        XCTAssertEqual(marker.recordValue, [0, 0, 1, 2, 3, 4])
        let buffer = try marker.batch(producerId: 11, producerEpoch: 2, timestampMs: 99, offset: 40)
        let batch = try RecordBatch(decoding: buffer, maxUncompressedBytes: 1 << 10)
        XCTAssertTrue(batch.header.isControl)
        XCTAssertTrue(batch.header.isTransactional)
        XCTAssertEqual(batch.header.producerId, 11)
        XCTAssertEqual(batch.records.count, 1)
        XCTAssertEqual(TransactionMarker(record: batch.records[0]), marker)
        XCTAssertNil(TransactionMarker(record: Record(offset: 0, timestampMs: 0, key: [0, 0, 0, 2], value: [0, 0])))
    }
}
