import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

/// Issue 12, item 14: recovery tells a torn (unsynced) tail, which it cuts, from damage in synced data,
/// which it reports and never cuts (nor the synced segments after it).
final class CorruptionRecoveryTests: XCTestCase {
    /// Three segments of two acks=all batches each (every append synced, no checkpoint written since
    /// open, so recovery scans them all), then a crash.
    private func threeSyncedSegments(_ fixture: LogFixture) throws {
        let log = try fixture.open()
        for i in 0..<6 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i), valueBytes: 100)) }
        XCTAssertEqual(log.segmentBaseOffsets, [0, 2, 4])
        XCTAssertEqual(log.flushedOffset, 6)
        fixture.crash(.dropUnsynced)
    }

    private func flipByte(_ fixture: LogFixture, _ path: String, at position: Int64) throws {
        let file = try fixture.fileSystem.openFile(path, options: [])
        try file.write([try file.read(at: position, count: 1)[0] ^ 0xFF], at: position)
        try file.sync()
        file.close()
    }

    private func contents(_ fixture: LogFixture, _ path: String) throws -> [UInt8] {
        let file = try fixture.fileSystem.openFile(path, options: [])
        defer { file.close() }
        return try file.readAll()
    }

    private func assertRefusedAsCorrupt(_ fixture: LogFixture, path: String, position: Int64,
                                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try fixture.open(), "a log with damaged synced data must not open", file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("corrupt log segment \(path) at byte \(position)"), text, file: file, line: line)
        }
    }

    func testCorruptBatchInAnEarlierSegmentIsReportedAndNoSegmentIsDeleted() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        try threeSyncedSegments(fixture)
        let batchBytes = Int64(TestBatches.make(baseOffset: 0, valueBytes: 100).readableBytes)
        let paths = [0, 2, 4].map { fixture.segmentPath($0) }
        try flipByte(fixture, paths[0], at: batchBytes + 70)  // inside the records of offset 1
        let before = try paths.map { try contents(fixture, $0) }

        assertRefusedAsCorrupt(fixture, path: paths[0], position: batchBytes)
        XCTAssertEqual(try paths.map { try contents(fixture, $0) }, before, "recovery must neither cut nor delete synced segments")
        // Nothing changed, so a second attempt finds the same.
        assertRefusedAsCorrupt(fixture, path: paths[0], position: batchBytes)
    }

    func testShortEarlierSegmentIsReportedAndTheSegmentsAfterItStay() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        try threeSyncedSegments(fixture)
        let batchBytes = Int64(TestBatches.make(baseOffset: 0, valueBytes: 100).readableBytes)
        // Segment 0 loses the end of its second batch, as a disk that acknowledged too early might.
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        try file.truncate(to: 2 * batchBytes - 5)
        try file.sync()
        file.close()

        assertRefusedAsCorrupt(fixture, path: fixture.segmentPath(0), position: batchBytes)
        for base in [0, 2, 4] as [Int64] { XCTAssertTrue(fixture.fileSystem.fileExists(fixture.segmentPath(base)), "segment \(base)") }
        XCTAssertEqual(try contents(fixture, fixture.segmentPath(0)).count, Int(2 * batchBytes - 5))
    }

    func testCorruptBatchBelowTheRecoveryPointOfTheLastSegmentIsReported() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let batches = (0..<4).map { TestBatches.make(baseOffset: Int64($0)) }
        for batch in batches { try fixture.appendDurably(log, batch) }
        try log.writeCheckpoints()  // the recovery point now vouches for all four batches
        fixture.crash(.dropUnsynced)
        let position = Int64(2 * batches[0].readableBytes)
        try flipByte(fixture, fixture.segmentPath(0), at: position + 70)
        let before = try contents(fixture, fixture.segmentPath(0))

        assertRefusedAsCorrupt(fixture, path: fixture.segmentPath(0), position: position)
        XCTAssertEqual(try contents(fixture, fixture.segmentPath(0)), before)
    }

    func testSyncedBatchesMissingFromTheEndOfTheLastSegmentAreReported() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let batches = (0..<4).map { TestBatches.make(baseOffset: Int64($0)) }
        for batch in batches { try fixture.appendDurably(log, batch) }
        try log.writeCheckpoints()
        fixture.crash(.dropUnsynced)
        // The file ends cleanly after two batches: no torn bytes, but offsets 2 and 3 were synced.
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        try file.truncate(to: Int64(2 * batches[0].readableBytes))
        try file.sync()
        file.close()

        assertRefusedAsCorrupt(fixture, path: fixture.segmentPath(0), position: Int64(2 * batches[0].readableBytes))
    }

    func testASegmentOverlappingItsPredecessorIsReportedNotDeleted() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        try threeSyncedSegments(fixture)
        // A stray copy of segment 2's batches (offsets 2 and 3) under base offset 1, inside segment 0.
        try fixture.fileSystem.writeAtomically(try contents(fixture, fixture.segmentPath(2)), to: fixture.segmentPath(1))

        assertRefusedAsCorrupt(fixture, path: fixture.segmentPath(1), position: 0)
        for base in [0, 1, 2, 4] as [Int64] { XCTAssertTrue(fixture.fileSystem.fileExists(fixture.segmentPath(base)), "segment \(base)") }
    }

    /// The recovery point vouches for the first two batches only: a crash tearing the two unsynced ones
    /// after them is still cut, as before.
    func testTornTailAboveTheRecoveryPointIsStillCut() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0))
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 1))
        try log.writeCheckpoints()
        let unsynced = TestBatches.concat([TestBatches.make(baseOffset: 2), TestBatches.make(baseOffset: 3)])
        try log.appendAsLeader(unsynced, leaderEpoch: 0, nowMs: 0)
        fixture.crash(.keepUnsyncedBytes([fixture.segmentPath(0): unsynced.readableBytes - 9]))

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 3)
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [0, 1, 2])
    }

    /// Batches synced after the last checkpoint of the recovery point cannot be told from unsynced ones
    /// (Kafka's recovery point lags the same way): damage there is cut as a torn write.
    func testDamageAboveTheCheckpointedRecoveryPointIsCutAsATornWrite() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let batches = (0..<4).map { TestBatches.make(baseOffset: Int64($0)) }
        try fixture.appendDurably(log, batches[0])
        try fixture.appendDurably(log, batches[1])
        try log.writeCheckpoints()
        try fixture.appendDurably(log, batches[2])
        try fixture.appendDurably(log, batches[3])
        fixture.crash(.dropUnsynced)
        try flipByte(fixture, fixture.segmentPath(0), at: Int64(2 * batches[0].readableBytes + 70))

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 2)
    }
}
