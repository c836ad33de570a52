import Logging
import NIOCore
@testable import RunnelLog
import RunnelRecords
import RunnelStorage
import Synchronization
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

/// What recovery logs, and how the recovery point follows truncation.
final class RecoveryReportingTests: XCTestCase {
    func testACutTornTailIsLoggedAsAWarningAndReported() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0))
        try log.writeCheckpoints()
        let unsynced = TestBatches.make(baseOffset: 1)
        try log.appendAsLeader(unsynced, leaderEpoch: 0, nowMs: 0)
        fixture.crash(.keepUnsyncedBytes([fixture.segmentPath(0): unsynced.readableBytes - 4]))

        let lines = LogLines()
        let recovered = try PartitionLog.open(directory: fixture.directory, fileSystem: fixture.fileSystem, syncScheduler: fixture.scheduler,
                                              config: fixture.config, nowMs: 0, logger: lines.logger)
        let torn = try XCTUnwrap(recovered.recoveryReport.tornTail)
        XCTAssertEqual(torn.path, fixture.segmentPath(0))
        XCTAssertEqual(torn.position, Int64(TestBatches.make(baseOffset: 0).readableBytes))
        XCTAssertEqual(torn.bytesDropped, Int64(unsynced.readableBytes - 4))
        let warnings = lines.all.filter { $0.0 == .warning }.map(\.1)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains(fixture.segmentPath(0)) ?? false, "\(warnings)")
    }

    func testCorruptionIsLoggedAsAnErrorNamingTheFileAndPosition() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<3 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i))) }
        try log.writeCheckpoints()
        fixture.crash(.dropUnsynced)
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        try file.write([0xFF, 0xFF], at: 30)  // inside the first batch's header
        try file.sync()
        file.close()

        let lines = LogLines()
        XCTAssertThrowsError(try PartitionLog.open(directory: fixture.directory, fileSystem: fixture.fileSystem, syncScheduler: fixture.scheduler,
                                                   config: fixture.config, nowMs: 0, logger: lines.logger)) { error in
            guard case .corrupt(let corruption)? = error as? LogError else { return XCTFail("\(error)") }
            XCTAssertEqual(corruption.path, fixture.segmentPath(0))
            XCTAssertEqual(corruption.position, 0)
        }
        let errors = lines.all.filter { $0.0 == .error }.map(\.1)
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.contains("corrupt log segment \(fixture.segmentPath(0)) at byte 0") ?? false, "\(errors)")
    }

    /// A truncation takes synced data away: the recovery point must follow it down first, or a torn
    /// tail written after the truncation would later be taken for lost synced data.
    func testTruncationLowersTheRecoveryPointSoALaterTornTailIsStillCut() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<4 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i))) }
        try log.writeCheckpoints()
        XCTAssertEqual(try log.truncate(to: 2, nowMs: 0), 2)
        try log.appendAsLeader(TestBatches.make(baseOffset: 2, epoch: 1), leaderEpoch: 1, nowMs: 0)  // never synced
        fixture.crash(.dropUnsynced)
        XCTAssertEqual(try fixture.open().logEndOffset, 2)
    }

    func testRestartLowersTheRecoveryPointSoALaterTornTailIsStillCut() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        for i in 0..<4 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i))) }
        try log.writeCheckpoints()
        try log.truncateFully(startingAt: 1, nowMs: 0)
        try log.appendAsLeader(TestBatches.make(baseOffset: 1, epoch: 1), leaderEpoch: 1, nowMs: 0)  // never synced
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logStartOffset, 1)
        XCTAssertEqual(recovered.logEndOffset, 1)
    }
}

/// The pure rule: what may be cut and what is corruption.
final class RecoveryVerdictRuleTests: XCTestCase {
    func testTheRule() {
        let whole = SegmentScan(validBytes: 100, fileBytes: 100, nextOffset: 10, damage: nil)
        let torn = SegmentScan(validBytes: 60, fileBytes: 100, nextOffset: 6, damage: "torn")
        func judge(_ scan: SegmentScan, isLast: Bool, recoveryPoint: Int64) -> RecoveryVerdict {
            RecoveryVerdict.judge(scan, baseOffset: 0, isLast: isLast, recoveryPoint: recoveryPoint)
        }
        func isCorrupt(_ verdict: RecoveryVerdict) -> Bool { if case .corrupt = verdict { true } else { false } }
        // Any damage in a segment that is not the last is corruption, whatever the recovery point.
        XCTAssertTrue(isCorrupt(judge(torn, isLast: false, recoveryPoint: 0)))
        // In the last segment: cut above the recovery point, corruption below it.
        XCTAssertEqual(judge(torn, isLast: true, recoveryPoint: 6), .cutTornTail(position: 60))
        XCTAssertTrue(isCorrupt(judge(torn, isLast: true, recoveryPoint: 7)))
        // Whole, but missing synced offsets at its end.
        XCTAssertEqual(judge(whole, isLast: true, recoveryPoint: 10), .intact)
        XCTAssertTrue(isCorrupt(judge(whole, isLast: true, recoveryPoint: 11)))
        XCTAssertEqual(judge(whole, isLast: false, recoveryPoint: 11), .intact, "compaction leaves gaps in sealed segments")
    }
}

final class LogLines: Sendable {
    private let lines = Mutex<[(Logger.Level, String)]>([])
    var all: [(Logger.Level, String)] { lines.withLock { $0 } }
    func append(_ level: Logger.Level, _ line: String) { lines.withLock { $0.append((level, line)) } }
    var logger: Logger { Logger(label: "test") { _ in LineHandler(sink: self) } }
}

struct LineHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { sink.append(event.level, "\(event.message)") }
}
