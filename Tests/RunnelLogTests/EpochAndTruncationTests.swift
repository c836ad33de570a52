import NIOCore
import RunnelLog
import RunnelStorage
import XCTest

final class EpochAndTruncationTests: XCTestCase {
    /// Epoch 1 at 0, epoch 3 at 4, epoch 4 at 7; log end 9.
    private func logWithEpochs(_ fixture: LogFixture) throws -> PartitionLog {
        let log = try fixture.open()
        for (epoch, range) in [(Int32(1), 0..<4), (3, 4..<7), (4, 7..<9)] {
            for offset in range { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(offset), epoch: epoch), epoch: epoch) }
        }
        return log
    }

    func testEndOffsetForEpochAnswersLikeOffsetForLeaderEpoch() throws {
        let fixture = try LogFixture()
        let log = try logWithEpochs(fixture)
        XCTAssertEqual(log.epochEntries, [EpochEntry(epoch: 1, startOffset: 0), EpochEntry(epoch: 3, startOffset: 4),
                                          EpochEntry(epoch: 4, startOffset: 7)])
        XCTAssertEqual(log.endOffset(forEpoch: 4), EpochEndOffset(epoch: 4, endOffset: 9))  // latest: the log end
        XCTAssertEqual(log.endOffset(forEpoch: 3), EpochEndOffset(epoch: 3, endOffset: 7))
        XCTAssertEqual(log.endOffset(forEpoch: 2), EpochEndOffset(epoch: 1, endOffset: 4))  // largest epoch ≤ 2 is 1
        XCTAssertEqual(log.endOffset(forEpoch: 0), EpochEndOffset(epoch: 0, endOffset: 0))  // before the first
        XCTAssertEqual(log.endOffset(forEpoch: 5), .undefined)
        XCTAssertEqual(log.endOffset(forEpoch: -1), .undefined)
    }

    func testEpochCacheSurvivesRestartAndIsRebuiltWhenItsCheckpointIsCorrupt() throws {
        let fixture = try LogFixture()
        let log = try logWithEpochs(fixture)
        let entries = log.epochEntries
        fixture.crash(.dropUnsynced)
        XCTAssertEqual(try fixture.open().epochEntries, entries)

        let path = fixture.directory + "/leader-epoch-checkpoint"
        let file = try fixture.fileSystem.openFile(path, options: [])
        try file.write([0xFF], at: 12)
        try file.sync()
        file.close()
        let rebuilt = try fixture.open()
        XCTAssertEqual(rebuilt.epochEntries, entries)
        XCTAssertEqual(rebuilt.endOffset(forEpoch: 3), EpochEndOffset(epoch: 3, endOffset: 7))
    }

    func testAssignedEpochStartIsAnsweredBeforeAnyAppendAndKeptOnceItHasData() throws {
        let fixture = try LogFixture()
        let log = try logWithEpochs(fixture)
        try log.assignEpochStart(epoch: 6, startOffset: 9)
        XCTAssertEqual(log.endOffset(forEpoch: 4), EpochEndOffset(epoch: 4, endOffset: 9))
        XCTAssertEqual(log.endOffset(forEpoch: 6), EpochEndOffset(epoch: 6, endOffset: 9))
        // Recovery drops epochs that start at the log end (as Kafka does): no data of theirs survived.
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.latestEpoch, 4)
        try recovered.assignEpochStart(epoch: 6, startOffset: 9)
        try fixture.appendDurably(recovered, TestBatches.make(baseOffset: 9, epoch: 6), epoch: 6)
        fixture.crash(.dropUnsynced)
        XCTAssertEqual(try fixture.open().epochEntries.last, EpochEntry(epoch: 6, startOffset: 9))
    }

    func testLeaderAppendWithAnOlderEpochIsRefused() throws {
        let fixture = try LogFixture()
        let log = try logWithEpochs(fixture)
        XCTAssertThrowsError(try log.appendAsLeader(TestBatches.make(baseOffset: 9), leaderEpoch: 3, nowMs: 0)) { error in
            XCTAssertEqual(error as? LogError, .staleLeaderEpoch(epoch: 3, latestEpoch: 4))
        }
        XCTAssertEqual(log.logEndOffset, 9)
    }

    func testTruncateDropsLaterBatchesSegmentsAndEpochsDurably() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 200, retentionMs: nil))
        let log = try logWithEpochs(fixture)
        log.updateHighWatermark(9)
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 4)
        XCTAssertEqual(try log.truncate(to: 5, nowMs: 0), 5)
        XCTAssertEqual(log.logEndOffset, 5)
        XCTAssertEqual(log.highWatermark, 5)
        XCTAssertEqual(log.flushedOffset, 5)
        XCTAssertEqual(log.epochEntries, [EpochEntry(epoch: 1, startOffset: 0), EpochEntry(epoch: 3, startOffset: 4)])
        XCTAssertEqual(log.endOffset(forEpoch: 3), EpochEndOffset(epoch: 3, endOffset: 5))
        XCTAssertEqual(try fixture.readAll(log).map(\.baseOffset), [0, 1, 2, 3, 4])
        XCTAssertTrue(log.segmentBaseOffsets.allSatisfy { $0 < 5 })

        // A crash cannot bring the dropped batches back.
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 5)
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [0, 1, 2, 3, 4])
        XCTAssertEqual(recovered.latestEpoch, 3)
        // The follower continues from the new end.
        try recovered.appendAsFollower(TestBatches.make(baseOffset: 5, epoch: 5), nowMs: 0)
        XCTAssertEqual(recovered.endOffset(forEpoch: 3), EpochEndOffset(epoch: 3, endOffset: 5))
    }

    func testTruncateInsideABatchDropsTheWholeBatch() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, records: 3))
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 3, records: 3))
        XCTAssertEqual(try log.truncate(to: 4, nowMs: 0), 3)
        XCTAssertEqual(try fixture.readAll(log).map(\.baseOffset), [0])
        XCTAssertEqual(try log.truncate(to: 10, nowMs: 0), 3)  // past the end: nothing to drop
    }

    func testTruncateToTheFirstSegmentBaseEmptiesTheLog() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, records: 3))
        XCTAssertEqual(try log.truncate(to: 0, nowMs: 0), 0)
        XCTAssertEqual(log.logEndOffset, 0)
        XCTAssertEqual(log.sizeBytes, 0)
        XCTAssertEqual(log.epochEntries, [])
    }

    func testTruncateFullyRestartsTheLogAtTheGivenOffset() throws {
        let fixture = try LogFixture()
        let log = try logWithEpochs(fixture)
        try log.truncateFully(startingAt: 100, nowMs: 0)
        XCTAssertEqual(log.offsets, LogOffsets(logStartOffset: 100, highWatermark: 100, flushedOffset: 100, logEndOffset: 100))
        XCTAssertEqual(log.segmentBaseOffsets, [100])
        try log.appendAsFollower(TestBatches.make(baseOffset: 100, epoch: 7), nowMs: 0)
        fixture.scheduler.runPass()
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logStartOffset, 100)
        XCTAssertEqual(recovered.logEndOffset, 101)
        XCTAssertEqual(recovered.epochEntries, [EpochEntry(epoch: 7, startOffset: 100)])
    }
}
