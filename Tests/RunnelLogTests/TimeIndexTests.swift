import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class TimeIndexTests: XCTestCase {
    /// Timestamps that mostly rise but sometimes fall back, across several segments, against a brute-force
    /// answer: the first batch whose max timestamp is at least the target.
    func testTimestampLookupFindsTheFirstBatchAtOrAfterTheTarget() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 700, retentionMs: nil, indexIntervalBytes: 120))
        let log = try fixture.open()
        var random = SplitMix64(seed: 7)
        var batches: [(base: Int64, maxTimestamp: Int64)] = []
        var clock: Int64 = 1_000
        for i in 0..<60 {
            clock += Int64(random.next() % 50)
            let timestamp = random.next() % 5 == 0 ? clock - 120 : clock  // a late producer now and then
            let batch = TestBatches.make(baseOffset: Int64(i * 2), records: 2, timestampMs: timestamp)
            try log.appendAsLeader(batch, leaderEpoch: 0, nowMs: 0)
            batches.append((Int64(i * 2), timestamp + 1))
        }
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 3)
        for target in stride(from: Int64(800), through: clock + 10, by: 7) {
            let expected = batches.first { $0.maxTimestamp >= target }
            let found = try log.offsetForTimestamp(target)
            XCTAssertEqual(found?.baseOffset, expected?.base, "target \(target)")
            XCTAssertEqual(found?.maxTimestamp, expected?.maxTimestamp, "target \(target)")
        }
        // The same answers after a restart, from the indexes on disk.
        log.close()
        let reopened = try fixture.open()
        for target in stride(from: Int64(800), through: clock + 10, by: 13) {
            XCTAssertEqual(try reopened.offsetForTimestamp(target)?.baseOffset, batches.first { $0.maxTimestamp >= target }?.base)
        }
    }

    func testMaxTimestampLookupFindsTheBatchWithTheLargestTimestamp() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        XCTAssertNil(try log.offsetForMaxTimestamp())
        let timestamps: [Int64] = [100, 500, 300, 900, 200, 900, 400, 100]
        for (i, timestamp) in timestamps.enumerated() {
            try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i), timestampMs: timestamp), leaderEpoch: 0, nowMs: 0)
        }
        let found = try XCTUnwrap(try log.offsetForMaxTimestamp())
        XCTAssertEqual(found.baseOffset, 3)  // the first of the two batches at 900
        XCTAssertEqual(found.maxTimestamp, 900)
        log.close()
        XCTAssertEqual(try fixture.open().offsetForMaxTimestamp()?.baseOffset, 3)
    }

    func testTimestampLookupSkipsRecordsBelowTheLogStartOffset() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<5 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i), timestampMs: Int64(i * 100))) }
        log.updateHighWatermark(5)
        try log.deleteRecords(before: 3)
        XCTAssertEqual(try log.offsetForTimestamp(0)?.baseOffset, 3)
        XCTAssertNil(try log.offsetForTimestamp(1_000))
    }
}
