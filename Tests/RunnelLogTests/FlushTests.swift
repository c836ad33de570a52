import NIOCore
import RunnelLog
import RunnelStorage
import Dispatch
import Synchronization
import XCTest

/// Collects flush completions for assertions.
final class Completions: Sendable {
    private let results = Mutex<[Result<Void, LogError>]>([])
    var all: [Result<Void, LogError>] { results.withLock { $0 } }
    var count: Int { all.count }
    func record(_ result: Result<Void, LogError>) { results.withLock { $0.append(result) } }
}

final class FlushTests: XCTestCase {
    /// The "no acks=all response before its fsync" guarantee: nothing completes before the sync pass.
    func testFlushWaiterCompletesOnlyAfterTheSyncPassRan() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let done = Completions()
        let info = try log.appendAsLeader(TestBatches.make(records: 3), leaderEpoch: 0, nowMs: 0)
        log.whenFlushed(to: info.logEndOffset, done.record)
        XCTAssertEqual(done.count, 0)
        XCTAssertEqual(log.flushedOffset, 0)
        XCTAssertEqual(log.logEndOffset, 3)
        XCTAssertGreaterThan(fixture.fileSystem.unsyncedBytes(fixture.segmentPath(0)), 0)
        XCTAssertGreaterThan(fixture.scheduler.waiterCount, 0)

        fixture.scheduler.runPass()
        XCTAssertEqual(done.count, 1)
        XCTAssertNoThrow(try done.all[0].get())
        XCTAssertEqual(log.flushedOffset, 3)
        XCTAssertEqual(fixture.fileSystem.unsyncedBytes(fixture.segmentPath(0)), 0)
    }

    func testWaiterForAnAlreadyFlushedOffsetCompletesAtOnce() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(records: 2))
        let done = Completions()
        log.whenFlushed(to: 2, done.record)
        XCTAssertEqual(done.count, 1)
    }

    func testAppendsAfterARequestWaitForALaterPass() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let early = Completions(), late = Completions()
        try log.appendAsLeader(TestBatches.make(baseOffset: 0), leaderEpoch: 0, nowMs: 0)
        log.whenFlushed(to: 1, early.record)
        fixture.scheduler.runPass()
        try log.appendAsLeader(TestBatches.make(baseOffset: 1), leaderEpoch: 0, nowMs: 0)
        log.whenFlushed(to: 2, late.record)
        XCTAssertEqual(early.count, 1)
        XCTAssertEqual(late.count, 0)
        fixture.scheduler.runPass()
        XCTAssertEqual(late.count, 1)
    }

    func testAsyncWaitResumesAfterTheSyncPass() async throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(records: 2), leaderEpoch: 0, nowMs: 0)
        let scheduler = fixture.scheduler
        let waiter = Task { try await log.waitUntilFlushed(to: 2) }
        while scheduler.waiterCount == 0 { await Task.yield() }
        XCTAssertEqual(log.flushedOffset, 0)
        scheduler.runPass()
        try await waiter.value
        XCTAssertEqual(log.flushedOffset, 2)
    }

    func testSyncAfterARollMakesTheRolledSegmentDurableToo() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 200, retentionMs: nil))
        let log = try fixture.open()
        for i in 0..<6 { try log.appendAsLeader(TestBatches.make(baseOffset: Int64(i), valueBytes: 60), leaderEpoch: 0, nowMs: 0) }
        XCTAssertGreaterThan(log.segmentBaseOffsets.count, 2)
        fixture.scheduler.runPass()
        XCTAssertEqual(log.flushedOffset, 6)
        for base in log.segmentBaseOffsets { XCTAssertEqual(fixture.fileSystem.unsyncedBytes(fixture.segmentPath(base)), 0) }
        fixture.crash(.dropUnsynced)
        XCTAssertEqual(try fixture.open().logEndOffset, 6)
    }

    func testFailedSyncFailsWaitersAndStopsTheLogForGood() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(), leaderEpoch: 0, nowMs: 0)
        let done = Completions()
        log.whenFlushed(to: 1, done.record)
        fixture.fileSystem.failSyncs(underPath: fixture.directory)
        fixture.scheduler.runPass()
        guard case .failure(.storage(.syncFailed))? = done.all.first else { return XCTFail("\(done.all)") }
        XCTAssertEqual(log.flushedOffset, 0)
        XCTAssertNotNil(log.failure)
        XCTAssertThrowsError(try log.appendAsLeader(TestBatches.make(baseOffset: 1), leaderEpoch: 0, nowMs: 0)) { error in
            guard case .storage? = error as? LogError else { return XCTFail("\(error)") }
        }
        let later = Completions()
        log.whenFlushed(to: 1, later.record)
        guard case .failure(.storage)? = later.all.first else { return XCTFail("\(later.all)") }
    }

    func testTruncationFailsWaitersBeyondTheNewEnd() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, records: 2))
        try log.appendAsLeader(TestBatches.make(baseOffset: 2, records: 2), leaderEpoch: 0, nowMs: 0)
        let done = Completions()
        log.whenFlushed(to: 4, done.record)
        try log.truncate(to: 2, nowMs: 0)
        XCTAssertEqual(done.all.count, 1)
        guard case .failure(.truncated(offset: 4, logEndOffset: 2))? = done.all.first else { return XCTFail("\(done.all)") }
        // The sync requested before the truncation proves nothing about what is appended after it.
        try log.appendAsLeader(TestBatches.make(baseOffset: 2, records: 3), leaderEpoch: 0, nowMs: 0)
        XCTAssertEqual(log.flushedOffset, 2)
        fixture.scheduler.runPass()
        XCTAssertEqual(log.flushedOffset, 5)
    }

    func testWaitersBeyondTheLimitFailFast() throws {
        let fixture = try LogFixture(config: LogConfig(retentionMs: nil, flushWaitersMax: 2))
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(), leaderEpoch: 0, nowMs: 0)
        let done = Completions()
        for _ in 0..<3 { log.whenFlushed(to: 1, done.record) }
        XCTAssertEqual(done.count, 1)
        guard case .failure(.tooManyFlushWaiters(limit: 2))? = done.all.first else { return XCTFail("\(done.all)") }
        fixture.scheduler.runPass()
        XCTAssertEqual(done.count, 3)
    }

    func testWaitingBeyondTheLogEndIsOutOfRange() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let done = Completions()
        log.whenFlushed(to: 1, done.record)
        guard case .failure(.offsetOutOfRange)? = done.all.first else { return XCTFail("\(done.all)") }
    }

    func testHighWatermarkFollowsTheFlushedOffsetAndSurvivesRestart() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(records: 4))
        log.updateHighWatermark(log.flushedOffset)
        XCTAssertEqual(log.highWatermark, 4)
        log.close()
        XCTAssertEqual(try fixture.open().highWatermark, 4)
    }

    func testAdvancingTheHighWatermarkIsCappedByTheFlushedOffsetAndNeverGoesBack() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(records: 4))
        try log.appendAsLeader(TestBatches.make(baseOffset: 4, records: 4), leaderEpoch: 0, nowMs: 0)
        XCTAssertTrue(log.advanceHighWatermark(toAtMost: 100))
        XCTAssertEqual(log.highWatermark, 4)  // 4...7 are not durable yet
        XCTAssertFalse(log.advanceHighWatermark(toAtMost: 2))
        XCTAssertEqual(log.highWatermark, 4)
        fixture.scheduler.runPass()
        XCTAssertTrue(log.advanceHighWatermark(toAtMost: 6))
        XCTAssertEqual(log.highWatermark, 6)
    }

    func testClosingFailsPendingWaiters() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try log.appendAsLeader(TestBatches.make(), leaderEpoch: 0, nowMs: 0)
        let done = Completions()
        log.whenFlushed(to: 1, done.record)
        log.close()
        guard case .failure(.closed)? = done.all.first else { return XCTFail("\(done.all)") }
        fixture.scheduler.runPass()  // the requested sync still runs on open files, failing nobody
        XCTAssertEqual(done.count, 1)
    }
}

final class ConcurrentAppendTests: XCTestCase {
    /// Appends from several threads through the real group-commit scheduler: offsets never repeat and
    /// every wait ends with its data flushed.
    func testConcurrentAppendsGetDistinctOffsetsAndAllFlush() throws {
        let fileSystem = SimulatedFileSystem()
        let scheduler = FsyncScheduler { _ in }
        defer { scheduler.shutdown() }
        let manager = try LogManager(dataDirectory: "/data", fileSystem: fileSystem, syncScheduler: scheduler)
        let log = try manager.openOrCreate(PartitionDirectory(topic: "c", partition: 0, topicID: TopicUUID(high: 0, low: 1)),
                                           config: LogConfig(segmentBytesMax: 2_000, retentionMs: nil), nowMs: 0)
        let firstOffsets = Mutex<[Int64]>([])
        let flushed = Completions()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 {
                guard let info = try? log.appendAsLeader(TestBatches.make(records: 2), leaderEpoch: 0, nowMs: 0) else {
                    return XCTFail("append failed")
                }
                firstOffsets.withLock { $0.append(info.firstOffset) }
                let done = DispatchSemaphore(value: 0)
                log.whenFlushed(to: info.logEndOffset) { result in
                    flushed.record(result)
                    done.signal()
                }
                done.wait()
            }
        }
        XCTAssertEqual(firstOffsets.withLock { $0.sorted() }, (0..<200).map { Int64($0 * 2) })
        XCTAssertEqual(flushed.count, 200)
        XCTAssertTrue(flushed.all.allSatisfy { (try? $0.get()) != nil })
        XCTAssertEqual(log.flushedOffset, 400)
        fileSystem.crash(.dropUnsynced)
        let reopened = try PartitionLog.open(directory: log.directory, fileSystem: fileSystem, syncScheduler: ManualSyncScheduler(),
                                             config: LogConfig(retentionMs: nil), nowMs: 0)
        XCTAssertEqual(reopened.logEndOffset, 400)
    }
}

/// A scheduler that refuses every request at once, as a full queue does, until told to sync.
final class RefusingScheduler: SyncScheduling {
    let refusing = Mutex(true)

    func sync(_ file: any StorageFile, then completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        if refusing.withLock({ $0 }) { return completion(.failure(.queueFull(limit: 1))) }
        do { try file.sync() } catch { return completion(.failure((error as? StorageError) ?? .syncFailed(path: file.path, errno: -1))) }
        completion(.success(()))
    }
}

final class FlushRefusalTests: XCTestCase {
    func testARefusedSyncFailsTheWaitRetryableAndALaterWaitRequestsAnotherSync() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/d")
        let scheduler = RefusingScheduler()
        let log = try PartitionLog.open(directory: "/d/p-0-000102030405060708090a0b0c0d0e0f", fileSystem: fileSystem,
                                        syncScheduler: scheduler, config: LogConfig(retentionMs: nil), nowMs: 0)
        try log.appendAsLeader(TestBatches.make(records: 2), leaderEpoch: 0, nowMs: 0)  // its sync is refused
        let first = Completions()
        log.whenFlushed(to: 2, first.record)  // asks again: refused again
        guard case .failure(.flushUnavailable(.queueFull))? = first.all.first else { return XCTFail("\(first.all)") }
        XCTAssertNil(log.failure)  // refusal is back-pressure, not a disk failure

        scheduler.refusing.withLock { $0 = false }
        let second = Completions()
        log.whenFlushed(to: 2, second.record)  // no append in between: the wait itself requests the sync
        XCTAssertEqual(second.count, 1)
        XCTAssertNoThrow(try second.all[0].get())
        XCTAssertEqual(log.flushedOffset, 2)
    }
}
