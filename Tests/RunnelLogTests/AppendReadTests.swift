import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class AppendReadTests: XCTestCase {
    func testLeaderAppendsGetConsecutiveOffsetsAndReadBackAcrossSegmentRolls() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        var appended: [ByteBuffer] = []
        for i in 0..<30 {
            // Built with the offsets the log will assign, so the stored bytes equal the input.
            let batch = TestBatches.make(baseOffset: Int64(i * 3), records: 3, timestampMs: Int64(i * 10), epoch: 5)
            let info = try log.appendAsLeader(batch, leaderEpoch: 5, nowMs: 0)
            XCTAssertEqual(info.firstOffset, Int64(i * 3))
            XCTAssertEqual(info.lastOffset, Int64(i * 3 + 2))
            XCTAssertEqual(info.logEndOffset, Int64(i * 3 + 3))
            appended.append(batch)
        }
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 5)
        XCTAssertEqual(log.logEndOffset, 90)
        let headers = try fixture.readAll(log)
        XCTAssertEqual(headers.map(\.baseOffset), stride(from: 0, to: 90, by: 3).map { Int64($0) })
        for offset in Int64(0)..<90 {
            let result = try log.read(from: offset, maxBytes: 1, upTo: log.logEndOffset)
            let first = try XCTUnwrap(try TestBatches.headers(result.records).first)
            XCTAssertTrue(first.baseOffset <= offset && offset <= first.lastOffset)
            XCTAssertEqual(result.records, appended[Int(offset / 3)])
        }
    }

    func testFirstBatchComesWholeEvenWhenLargerThanMaxBytesUnlessMinOneBatchIsOff() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(records: 5, valueBytes: 500), leaderEpoch: 0, nowMs: 0)
        try log.appendAsLeader(TestBatches.make(records: 1, valueBytes: 10), leaderEpoch: 0, nowMs: 0)
        let whole = try log.read(from: 2, maxBytes: 10, upTo: log.logEndOffset)
        XCTAssertEqual(try TestBatches.headers(whole.records).map(\.baseOffset), [0])
        XCTAssertGreaterThan(whole.records.readableBytes, 2_500)
        let none = try log.read(from: 2, maxBytes: 10, upTo: log.logEndOffset, minOneBatch: false)
        XCTAssertEqual(none.records.readableBytes, 0)
        XCTAssertNil(none.firstBatchOffset)
    }

    func testReadReturnsOnlyWholeBatchesWithinMaxBytes() throws {
        let fixture = try LogFixture(config: LogConfig(retentionMs: nil, indexIntervalBytes: 200))
        let log = try fixture.open()
        for i in 0..<50 { try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i)), leaderEpoch: 0, nowMs: 0) }
        let batchBytes = TestBatches.make().readableBytes
        for maxBytes in [batchBytes, batchBytes + 1, 3 * batchBytes - 1, 10 * batchBytes, 17 * batchBytes + 5] {
            let result = try log.read(from: 7, maxBytes: maxBytes, upTo: log.logEndOffset)
            let headers = try TestBatches.headers(result.records)
            XCTAssertEqual(headers.count, maxBytes / batchBytes, "maxBytes \(maxBytes)")
            XCTAssertEqual(headers.first?.baseOffset, 7)
        }
    }

    func testExtremeMaxBytesAreSafe() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<3 { try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i)), leaderEpoch: 0, nowMs: 0) }
        XCTAssertEqual(try TestBatches.headers(try log.read(from: 0, maxBytes: Int.max, upTo: 3).records).count, 3)
        XCTAssertEqual(try TestBatches.headers(try log.read(from: 0, maxBytes: -5, upTo: 3).records).count, 1)
        XCTAssertEqual(try log.read(from: 0, maxBytes: -5, upTo: 3, minOneBatch: false).records.readableBytes, 0)
    }

    func testReadStopsBelowTheLimitOffset() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<10 { try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i * 2), records: 2), leaderEpoch: 0, nowMs: 0) }
        let headers = try TestBatches.headers(try log.read(from: 0, maxBytes: 1 << 20, upTo: 7).records)
        // The batch holding offset 7 (6...7) reaches the limit, so it stays out.
        XCTAssertEqual(headers.map(\.baseOffset), [0, 2, 4])
        XCTAssertEqual(try log.read(from: 6, maxBytes: 1 << 20, upTo: 6).records.readableBytes, 0)
        XCTAssertEqual(try log.read(from: 20, maxBytes: 1 << 20, upTo: 20).records.readableBytes, 0)
    }

    func testReadOutsideTheLogIsOffsetOutOfRange() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(records: 3), leaderEpoch: 0, nowMs: 0)
        XCTAssertThrowsError(try log.read(from: 4, maxBytes: 100, upTo: 3)) { error in
            XCTAssertEqual(error as? LogError, .offsetOutOfRange(offset: 4, logStartOffset: 0, logEndOffset: 3))
        }
        XCTAssertThrowsError(try log.read(from: -1, maxBytes: 100, upTo: 3))
    }

    func testSliceReadNamesTheSameBytesAsACopyingRead() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<5 { try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i)), leaderEpoch: 0, nowMs: 0) }
        let copy = try log.read(from: 2, maxBytes: 1 << 20, upTo: 5)
        let slice = try XCTUnwrap(try log.readSlice(from: 2, maxBytes: 1 << 20, upTo: 5).slice)
        XCTAssertEqual(slice.length, copy.records.readableBytes)
        XCTAssertEqual(try slice.file.read(at: slice.position, count: slice.length), Array(copy.records.readableBytesView))
    }

    func testFollowerAppendKeepsOffsetsAndRejectsOffsetsBehindTheLogEnd() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let info = try log.appendAsFollower(TestBatches.make(baseOffset: 10, records: 2, epoch: 3), nowMs: 0)
        XCTAssertEqual(info.firstOffset, 10)
        XCTAssertEqual(log.logEndOffset, 12)
        XCTAssertEqual(log.latestEpoch, 3)
        XCTAssertThrowsError(try log.appendAsFollower(TestBatches.make(baseOffset: 11), nowMs: 0)) { error in
            XCTAssertEqual(error as? LogError, .unexpectedAppendOffset(expectedAtLeast: 12, got: 11))
        }
        XCTAssertEqual(try fixture.readAll(log).map(\.baseOffset), [10])
    }

    func testAppendRejectsAPartialBatchAndWritesNothing() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        var batch = TestBatches.make()
        batch.moveWriterIndex(to: batch.writerIndex - 1)
        XCTAssertThrowsError(try log.appendAsLeader(batch, leaderEpoch: 0, nowMs: 0)) { error in
            guard case .invalidBatches? = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(log.logEndOffset, 0)
        XCTAssertEqual(log.sizeBytes, 0)
    }

    func testAppendLargerThanASegmentIsRejected() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 200, retentionMs: nil))
        let log = try fixture.open()
        XCTAssertThrowsError(try log.appendAsLeader(TestBatches.make(valueBytes: 300), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .recordBatchTooLarge? = error as? LogError else { return XCTFail("\(error)") }
        }
    }

    func testSegmentRollsWhenItsFirstBatchIsOlderThanSegmentMs() throws {
        let fixture = try LogFixture(config: LogConfig(segmentMs: 1_000, retentionMs: nil))
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(baseOffset: 0, timestampMs: 5_000), leaderEpoch: 0, nowMs: 5_000)
        try log.appendAsLeader(TestBatches.make(baseOffset: 1, timestampMs: 5_900), leaderEpoch: 0, nowMs: 6_000)
        XCTAssertEqual(log.segmentBaseOffsets, [0])
        try log.appendAsLeader(TestBatches.make(baseOffset: 2, timestampMs: 6_100), leaderEpoch: 0, nowMs: 6_001)
        XCTAssertEqual(log.segmentBaseOffsets, [0, 2])
    }

    func testLogAppendTimeStampsTheBatchMaxTimestamp() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let info = try log.appendAsLeader(TestBatches.make(timestampMs: 1), leaderEpoch: 0, logAppendTimeMs: 99_000, nowMs: 0)
        XCTAssertEqual(info.maxTimestamp, 99_000)
        let header = try XCTUnwrap(try fixture.readAll(log).first)
        XCTAssertEqual(header.maxTimestampMs, 99_000)
        XCTAssertEqual(header.timestampType, .logAppendTime)
    }
}
