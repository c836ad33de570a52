import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class IdempotentProducerTests: XCTestCase {
    /// A batch of an idempotent producer: `records` records from `sequence` on.
    static func batch(producerId: Int64 = 7, epoch: Int16 = 0, sequence: Int32, records: Int = 2) -> ByteBuffer {
        var builder = RecordBatchBuilder(producerId: producerId, producerEpoch: epoch, baseSequence: sequence)
        for i in 0..<records { builder.append(key: nil, value: Array("v\(sequence)-\(i)".utf8), timestampMs: 1_000 + Int64(i)) }
        return try! builder.build()  // built here, compression .none
    }

    func testRetriedBatchReturnsTheOriginalOffsetAndAppendsNothing() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(records: 3))  // someone else's records first
        let first = try fixture.appendDurably(log, Self.batch(sequence: 0))
        let second = try fixture.appendDurably(log, Self.batch(sequence: 2))
        XCTAssertEqual(first.firstOffset, 3)
        XCTAssertEqual(second.firstOffset, 5)
        let endBefore = log.logEndOffset
        let sizeBefore = log.sizeBytes

        let retry = try log.appendAsLeader(Self.batch(sequence: 0), leaderEpoch: 0, nowMs: 0)
        XCTAssertTrue(retry.isDuplicate)
        XCTAssertEqual(retry.firstOffset, 3)
        XCTAssertEqual(retry.lastOffset, 4)
        XCTAssertEqual(log.logEndOffset, endBefore)
        XCTAssertEqual(log.sizeBytes, sizeBefore)
        XCTAssertFalse(second.isDuplicate)
    }

    func testOnlyTheLastFiveBatchesAreRemembered() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<6 { try fixture.appendDurably(log, Self.batch(sequence: Int32(i * 2))) }
        XCTAssertEqual(log.producerState[7]?.batches.map(\.firstSequence), [2, 4, 6, 8, 10])
        // The sixth-last batch is no longer known: its retry is out of order, not a duplicate.
        XCTAssertThrowsError(try log.appendAsLeader(Self.batch(sequence: 0), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .outOfOrderSequence = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(try log.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0).isDuplicate)
    }

    func testSequenceGapIsOutOfOrderAndAppendsNothing() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, Self.batch(sequence: 0))
        let end = log.logEndOffset
        XCTAssertThrowsError(try log.appendAsLeader(Self.batch(sequence: 3), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .outOfOrderSequence = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(log.logEndOffset, end)
        XCTAssertFalse(try log.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0).isDuplicate)
    }

    func testUnknownProducerMustStartAtSequenceZero() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        XCTAssertThrowsError(try log.appendAsLeader(Self.batch(producerId: 9, sequence: 4), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .outOfOrderSequence = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(log.logEndOffset, 0)
        XCTAssertEqual(try log.appendAsLeader(Self.batch(producerId: 9, sequence: 0), leaderEpoch: 0, nowMs: 0).firstOffset, 0)
    }

    func testOlderProducerEpochIsFencedAndNewerEpochStartsAtZero() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, Self.batch(epoch: 1, sequence: 0))
        XCTAssertThrowsError(try log.appendAsLeader(Self.batch(epoch: 0, sequence: 2), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .invalidProducerEpoch = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try log.appendAsLeader(Self.batch(epoch: 2, sequence: 2), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .outOfOrderSequence = error as? LogError else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(try log.appendAsLeader(Self.batch(epoch: 2, sequence: 0), leaderEpoch: 0, nowMs: 0).isDuplicate)
        XCTAssertEqual(log.producerState[7]?.epoch, 2)
        XCTAssertEqual(log.producerState[7]?.batches.count, 1)
    }

    func testSequenceWrapsFromInt32MaxToZero() throws {
        var table = ProducerStateTable()
        var builder = RecordBatchBuilder(baseOffset: 0, producerId: 3, producerEpoch: 0, baseSequence: Int32.max - 1)
        builder.append(key: nil, value: [1], timestampMs: 0)
        builder.append(key: nil, value: [2], timestampMs: 0)
        let header = try TestBatches.headers(builder.build())[0]
        XCTAssertEqual(header.lastSequence, Int32.max)
        table.apply(header)
        XCTAssertEqual(try table.check(TestBatches.headers(Self.batch(producerId: 3, sequence: 0))[0]), .append)
        XCTAssertThrowsError(try table.check(TestBatches.headers(Self.batch(producerId: 3, sequence: 1))[0]))
    }

    func testFullTableForgetsTheProducerThatAppendedLongestAgo() throws {
        var table = ProducerStateTable(producersMax: 2)
        var builder = RecordBatchBuilder(baseOffset: 0, producerId: 1, producerEpoch: 0, baseSequence: 0)
        builder.append(key: nil, value: [1], timestampMs: 0)
        table.apply(try TestBatches.headers(builder.build())[0])
        for (offset, id) in [(Int64(1), Int64(2)), (2, 1), (3, 3)] {
            var next = RecordBatchBuilder(baseOffset: offset, producerId: id, producerEpoch: 0, baseSequence: id == 1 ? 1 : 0)
            next.append(key: nil, value: [1], timestampMs: 0)
            table.apply(try TestBatches.headers(next.build())[0])
        }
        XCTAssertEqual(Set(table.producers.keys), [1, 3], "producer 2 appended longest ago")
    }

    func testRetryAfterCrashIsStillDeduplicatedFromTheLog() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        var infos: [LogAppendInfo] = []
        for i in 0..<8 { infos.append(try fixture.appendDurably(log, Self.batch(sequence: Int32(i * 2)))) }
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 1, "the batches span segments")
        fixture.crash()

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.producerState, log.producerState)
        let retry = try recovered.appendAsLeader(Self.batch(sequence: 14), leaderEpoch: 0, nowMs: 0)
        XCTAssertTrue(retry.isDuplicate)
        XCTAssertEqual(retry.firstOffset, infos[7].firstOffset)
        XCTAssertEqual(recovered.logEndOffset, infos[7].lastOffset + 1)
        XCTAssertFalse(try recovered.appendAsLeader(Self.batch(sequence: 16), leaderEpoch: 0, nowMs: 0).isDuplicate)
    }

    func testCrashLosingAnUnsyncedBatchForgetsItsSequence() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, Self.batch(sequence: 0))
        try log.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0)  // never synced
        fixture.crash()

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.producerState[7]?.batches.map(\.lastSequence), [1])
        // The client never had its answer and retries: appended again, once.
        let retry = try recovered.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0)
        XCTAssertFalse(retry.isDuplicate)
        XCTAssertEqual(retry.firstOffset, 2)
    }

    func testTruncationForgetsTruncatedBatches() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, Self.batch(sequence: 0))
        try fixture.appendDurably(log, Self.batch(sequence: 2))
        try log.truncate(to: 2, nowMs: 0)
        XCTAssertEqual(log.producerState[7]?.batches.map(\.firstSequence), [0])
        XCTAssertFalse(try log.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0).isDuplicate)
    }

    func testFollowerAppendBuildsTheSameState() throws {
        let leaderFixture = try LogFixture()
        let leader = try leaderFixture.open()
        for i in 0..<3 { try leaderFixture.appendDurably(leader, Self.batch(sequence: Int32(i * 2))) }
        let fetched = try leader.read(from: 0, maxBytes: 1 << 20, upTo: leader.logEndOffset).records

        let followerFixture = try LogFixture()
        let follower = try followerFixture.open()
        try follower.appendAsFollower(fetched, nowMs: 0)
        XCTAssertEqual(follower.producerState, leader.producerState)
    }

    // MARK: Snapshots

    func snapshotNames(_ fixture: LogFixture) throws -> [String] {
        try fixture.fileSystem.contentsOfDirectory(fixture.directory).filter { $0.hasSuffix(".snapshot") }.sorted()
    }

    func testProducerWhoseBatchesRetentionDeletedIsStillKnownAfterACrash() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        var last = try fixture.appendDurably(log, Self.batch(sequence: 0))
        last = try fixture.appendDurably(log, Self.batch(sequence: 2))
        // Someone else's records roll the log on until producer 7's segment can go.
        for _ in 0..<12 { try fixture.appendDurably(log, TestBatches.make(records: 2)) }
        log.updateHighWatermark(log.flushedOffset)
        let segmentBases = log.segmentBaseOffsets
        try log.deleteRecords(before: segmentBases[segmentBases.count - 1])
        XCTAssertGreaterThan(log.logStartOffset, last.lastOffset, "producer 7's batches are deleted")
        XCTAssertLessThanOrEqual(try snapshotNames(fixture).count, 2, "old snapshots are removed")
        fixture.crash()

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.producerState[7], log.producerState[7])
        let retry = try recovered.appendAsLeader(Self.batch(sequence: 2), leaderEpoch: 0, nowMs: 0)
        XCTAssertTrue(retry.isDuplicate)
        XCTAssertEqual(retry.firstOffset, last.firstOffset)
        XCTAssertFalse(try recovered.appendAsLeader(Self.batch(sequence: 4), leaderEpoch: 0, nowMs: 0).isDuplicate)
    }

    func testCleanCloseSnapshotsTheStateAtTheLogEnd() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<3 { try fixture.appendDurably(log, Self.batch(sequence: Int32(i * 2))) }
        let state = log.producerState
        log.close()
        XCTAssertEqual(try snapshotNames(fixture), ["00000000000000000006.snapshot"])
        XCTAssertEqual(try fixture.open().producerState, state)
    }

    func testUnreadableNewestSnapshotFallsBackToTheOlderOneAndTheLog() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        for i in 0..<10 { try fixture.appendDurably(log, Self.batch(producerId: Int64(i % 3), sequence: Int32(i / 3 * 2))) }
        let state = log.producerState
        let names = try snapshotNames(fixture)
        XCTAssertEqual(names.count, 2)
        let newest = try fixture.fileSystem.openFile(fixture.directory + "/" + names[1], options: [])
        try newest.write([0xFF, 0xFF, 0xFF], at: 5)
        try newest.sync()
        newest.close()
        fixture.crash()
        XCTAssertEqual(try fixture.open().producerState, state)
    }

    func testTruncationBelowASnapshotDropsIt() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 400, retentionMs: nil))
        let log = try fixture.open()
        var infos: [LogAppendInfo] = []
        for i in 0..<8 { infos.append(try fixture.appendDurably(log, Self.batch(sequence: Int32(i * 2)))) }
        try log.truncate(to: infos[2].firstOffset, nowMs: 0)
        XCTAssertEqual(log.producerState[7]?.batches.map(\.firstSequence), [0, 2])
        let offsets = try snapshotNames(fixture).compactMap { Int64($0.prefix(20)) }
        XCTAssertTrue(offsets.allSatisfy { $0 <= log.logEndOffset }, "\(offsets)")
        fixture.crash()
        XCTAssertEqual(try fixture.open().producerState[7]?.batches.map(\.firstSequence), [0, 2])
    }
}
