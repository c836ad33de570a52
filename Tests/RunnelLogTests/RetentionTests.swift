import NIOCore
import RunnelLog
import RunnelStorage
import XCTest

final class RetentionTests: XCTestCase {
    private func filledLog(_ fixture: LogFixture, batches: Int = 12, timestampStepMs: Int64 = 1_000) throws -> PartitionLog {
        let log = try fixture.open()
        for i in 0..<batches {
            try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i), timestampMs: Int64(i) * timestampStepMs, valueBytes: 100))
        }
        log.updateHighWatermark(log.flushedOffset)
        return log
    }

    func testRetentionByBytesDeletesTheOldestWholeSegments() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil, retentionBytes: 700))
        let log = try filledLog(fixture)
        XCTAssertEqual(log.segmentBaseOffsets, [0, 2, 4, 6, 8, 10])
        let segmentBytes = log.sizeBytes / 6
        let outcome = try log.applyRetention(nowMs: 0)
        // Six segments of ~336 bytes: deleting a fourth would leave less than 700 bytes.
        XCTAssertEqual(outcome.deletedSegments, 3)
        XCTAssertEqual(outcome.deletedBytes, 3 * segmentBytes)
        XCTAssertEqual(log.segmentBaseOffsets, [6, 8, 10])
        XCTAssertGreaterThanOrEqual(log.sizeBytes, 700)
        XCTAssertLessThan(log.sizeBytes - segmentBytes, 700)
        XCTAssertEqual(log.logStartOffset, 6)
        XCTAssertFalse(fixture.fileSystem.fileExists(fixture.segmentPath(0)))
        XCTAssertFalse(fixture.fileSystem.fileExists(fixture.segmentPath(0, ".index")))
        XCTAssertThrowsError(try log.read(from: 5, maxBytes: 100, upTo: 12))
        XCTAssertEqual(try fixture.readAll(log).map(\.baseOffset), Array(6..<12))
        XCTAssertEqual(try log.applyRetention(nowMs: 0).deletedSegments, 0)
    }

    func testRetentionByTimeDeletesExpiredSegmentsButNeverTheActiveOne() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: 5_000))
        let log = try filledLog(fixture)
        // At 9.5 s, segments whose newest batch is older than 4.5 s go: [0,2) at 1 s and [2,4) at 3 s.
        XCTAssertEqual(try log.applyRetention(nowMs: 9_500).deletedSegments, 2)
        XCTAssertEqual(log.segmentBaseOffsets, [4, 6, 8, 10])
        // Far in the future everything is expired, but the active segment stays.
        try log.applyRetention(nowMs: 1_000_000)
        XCTAssertEqual(log.segmentBaseOffsets, [10])
        XCTAssertEqual(log.logStartOffset, 10)
        XCTAssertEqual(log.logEndOffset, 12)
    }

    func testRetentionKeepsSegmentsAtOrAboveTheHighWatermark() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: 1))
        let log = try fixture.open()
        for i in 0..<8 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i), valueBytes: 100)) }
        log.updateHighWatermark(3)
        try log.applyRetention(nowMs: 1_000_000)
        XCTAssertEqual(log.segmentBaseOffsets, [2, 4, 6])  // [2,4) holds offset 3, not yet committed
    }

    func testDeleteRecordsAdvancesTheLogStartOffsetAndSurvivesRestart() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        let log = try filledLog(fixture, batches: 8)
        XCTAssertEqual(try log.deleteRecords(before: 5), 5)
        XCTAssertEqual(log.logStartOffset, 5)
        XCTAssertEqual(log.segmentBaseOffsets, [4, 6])  // [4,6) still holds offset 5
        XCTAssertThrowsError(try log.read(from: 4, maxBytes: 100, upTo: 8))
        XCTAssertEqual(try log.read(from: 5, maxBytes: 1, upTo: 8).firstBatchOffset, 5)
        XCTAssertThrowsError(try log.deleteRecords(before: 9)) { error in
            guard case .offsetOutOfRange? = error as? LogError else { return XCTFail("\(error)") }
        }
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logStartOffset, 5)
        XCTAssertEqual(recovered.highWatermark, 5)  // the restored high watermark is never below the start
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [5, 6, 7])
    }

    func testLogStartOffsetPastTheSurvivingDataRestartsTheLogThere() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<4 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i))) }
        log.updateHighWatermark(4)
        try log.deleteRecords(before: 4)
        log.close()
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        try file.truncate(to: 0)  // the data is gone, the recorded start is not
        try file.sync()
        file.close()
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logStartOffset, 4)
        XCTAssertEqual(recovered.logEndOffset, 4)
        XCTAssertEqual(try recovered.appendAsLeader(TestBatches.make(), leaderEpoch: 0, nowMs: 0).firstOffset, 4)
    }

    func testRemovedSegmentsLeaveNoFilesBehind() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil, retentionBytes: 700))
        let log = try filledLog(fixture)
        XCTAssertEqual(try log.applyRetention(nowMs: 0).deletedSegments, 3)
        // Renamed to `.deleted` under the lock, unlinked after it: nothing of segments 0, 2 and 4 is left.
        let names = try fixture.fileSystem.contentsOfDirectory(fixture.directory)
        XCTAssertFalse(names.contains { $0.hasSuffix(".deleted") }, "\(names)")
        XCTAssertEqual(names.filter { $0.hasSuffix(".log") }.sorted(),
                       ["00000000000000000006.log", "00000000000000000008.log", "00000000000000000010.log"])
    }

    func testOpenRemovesFilesOfSegmentsACrashLeftRenamedButNotUnlinked() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        let log = try filledLog(fixture)
        log.close()
        // A crash between the rename and the unlink of segment [0, 2).
        for suffix in [".log", ".index", ".timeindex"] {
            try fixture.fileSystem.rename(from: fixture.segmentPath(0, suffix), to: fixture.segmentPath(0, suffix + ".deleted"))
        }
        try fixture.fileSystem.syncDirectory(fixture.directory)
        let reopened = try fixture.open()
        XCTAssertEqual(reopened.segmentBaseOffsets, [2, 4, 6, 8, 10])
        XCTAssertEqual(reopened.logStartOffset, 2)
        XCTAssertEqual(try fixture.readAll(reopened).map(\.baseOffset), Array(2..<12))
        let names = try fixture.fileSystem.contentsOfDirectory(fixture.directory)
        XCTAssertFalse(names.contains { $0.hasSuffix(".deleted") }, "\(names)")
    }

    func testRemovedSegmentsAreClosedAndUnlinkedOutsideTheLogsLock() throws {
        let fileSystem = LockProbingFileSystem()
        try fileSystem.createDirectory("/data")
        let scheduler = ManualSyncScheduler()
        let log = try PartitionLog.open(directory: "/data/p-0", fileSystem: fileSystem, syncScheduler: scheduler,
                                        config: LogConfig(segmentBytesMax: 350, retentionMs: nil, retentionBytes: 700), nowMs: 0)
        for i in 0..<12 {
            _ = try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i), timestampMs: Int64(i), valueBytes: 100), leaderEpoch: 0, nowMs: 0)
            scheduler.runPass()
        }
        log.updateHighWatermark(log.flushedOffset)
        fileSystem.probe = { _ = log.offsets }
        // An append whose sync is still pending keeps the removed files open until it completes.
        _ = try log.appendAsLeader(TestBatches.make(baseOffset: 12, timestampMs: 12, valueBytes: 100), leaderEpoch: 0, nowMs: 0)
        XCTAssertEqual(try log.applyRetention(nowMs: 0).deletedSegments, 4)
        scheduler.runPass()
        // Four segments of three files: each closed once and unlinked once.
        XCTAssertEqual(fileSystem.probeCount, 24)
        XCTAssertEqual(fileSystem.underLock, [])
    }
}
