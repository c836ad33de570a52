import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class CompactionCrashTests: XCTestCase {
    /// A log whose older part was compacted once (so the next pass merges small cleaned segments) and
    /// then updated again, closed cleanly. Built once; every crash point starts from a copy of its disk.
    private static let prepared: (disk: SimulatedFileSystem, before: [Record], logEndOffset: Int64) = {
        let fixture = try! LogFixture(config: CompactionTests.compactConfig(deleteRetentionMs: 1_000))
        let log = try! fixture.open()
        var offset: Int64 = 0
        func append(_ update: KeyedUpdate) {
            try! fixture.appendCommitted(log, Keyed.batch([update], baseOffset: offset, timestampMs: 1_000))
            offset += 1
        }
        for i in 0..<40 { append(KeyedUpdate(key: "k\(i % 8)", value: "a\(i)")) }
        append(KeyedUpdate(key: "k3", value: nil))
        try! log.clean(nowMs: 1_500)
        for i in 0..<40 { append(KeyedUpdate(key: "k\(i % 5)", value: "b\(i)")) }
        append(KeyedUpdate(key: "k6", value: nil))
        let before = try! Keyed.records(log)
        let end = log.logEndOffset
        log.close()
        return (fixture.fileSystem, before, end)
    }()

    /// Every directory and file of `source`, written and synced on a new simulated disk.
    private static func copy(_ source: SimulatedFileSystem) throws -> SimulatedFileSystem {
        let disk = SimulatedFileSystem()
        func walk(_ directory: String) throws {
            for name in try source.contentsOfDirectory(directory) {
                let path = Path.join(directory, name)
                if source.directoryExists(path) {
                    try disk.createDirectory(path)
                    try walk(path)
                } else {
                    let from = try source.openFile(path, options: [])
                    let to = try disk.openFile(path, options: [.create, .truncate])
                    try to.write(try from.readAll(), at: 0)
                    try to.sync()
                    from.close()
                    to.close()
                }
            }
            try disk.syncDirectory(directory)
        }
        try walk("/")
        return disk
    }

    private func preparedLog() throws -> (LogFixture, before: [Record], logEndOffset: Int64) {
        let prepared = Self.prepared
        let disk = try Self.copy(prepared.disk)
        let fixture = try LogFixture(config: CompactionTests.compactConfig(deleteRetentionMs: 1_000), fileSystem: disk)
        return (fixture, prepared.before, prepared.logEndOffset)
    }

    /// Opens the prepared log on a disk that loses power at its `crashAt`-th write, sync, rename or
    /// removal, and runs a cleaning pass (late enough that the compacted tombstone may go). Returns
    /// whether the crash happened.
    private func cleanCrashing(_ fixture: LogFixture, crashAt: Int) -> Bool {
        let disk = CrashPointFileSystem(base: fixture.fileSystem, crashAt: crashAt, tearSeed: UInt64(crashAt))
        do {
            let log = try PartitionLog.open(directory: fixture.directory, fileSystem: disk, syncScheduler: ManualSyncScheduler(),
                                            config: fixture.config, nowMs: 0)
            let outcome = try log.clean(nowMs: 10_000)
            precondition(outcome.ran && outcome.segmentsRewritten > 1, "the pass must rewrite segments")
            log.close()
        } catch {
            XCTAssertTrue(disk.crashed, "only the simulated crash may fail the pass: \(error)")
        }
        if !disk.crashed { fixture.crash(.seeded(UInt64(crashAt))) }
        return disk.crashed
    }

    private func assertIntact(_ fixture: LogFixture, before: [Record], logEndOffset: Int64, _ message: String) throws {
        let log = try fixture.open()
        XCTAssertEqual(log.logEndOffset, logEndOffset, message)
        XCTAssertEqual(log.logStartOffset, 0, message)
        let records = try Keyed.records(log)
        Keyed.assertCompacted(records, from: before, message)
        // The recovered log cleans on: no leftover of the interrupted pass is in the way.
        try log.clean(nowMs: 10_000)
        Keyed.assertCompacted(try Keyed.records(log), from: before, message + ", cleaned again")
        XCTAssertFalse(try fixture.fileSystem.contentsOfDirectory(fixture.directory).contains {
            $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned")
        }, message)
        log.close()
    }

    /// A crash at every I/O step of opening and cleaning: afterwards every key has its latest value at
    /// its original offset, no record changed, and the log end is where it was. Where the crash left a
    /// committed swap, a second crash at every step of the recovery that finishes it loses nothing either.
    func testCrashAtEveryStepOfACleaningPassAndOfItsRecoveryLosesNothing() throws {
        var crashAt = 1
        var swapPoints: [Int] = []
        while crashAt < 1_000 {
            let (fixture, before, end) = try preparedLog()
            let crashed = cleanCrashing(fixture, crashAt: crashAt)
            if try fixture.fileSystem.contentsOfDirectory(fixture.directory).contains(where: { $0.hasSuffix(".swap") }) {
                swapPoints.append(crashAt)
            }
            try assertIntact(fixture, before: before, logEndOffset: end, "crash at step \(crashAt)")
            if !crashed { break }
            crashAt += 1
        }
        print("compaction crash points: \(crashAt) in the pass, \(swapPoints.count) leaving a swap")
        XCTAssertGreaterThan(crashAt, 30, "the pass has many steps")
        XCTAssertLessThan(crashAt, 1_000, "the pass finished")
        XCTAssertFalse(swapPoints.isEmpty, "some crashes left a committed swap for recovery to finish")

        for point in [swapPoints.first, swapPoints.last].compactMap({ $0 }) {
            var recoveryCrashAt = 1
            while recoveryCrashAt < 500 {
                let (fixture, before, end) = try preparedLog()
                XCTAssertTrue(cleanCrashing(fixture, crashAt: point))
                let disk = CrashPointFileSystem(base: fixture.fileSystem, crashAt: recoveryCrashAt, tearSeed: UInt64(recoveryCrashAt))
                do {
                    let log = try PartitionLog.open(directory: fixture.directory, fileSystem: disk, syncScheduler: ManualSyncScheduler(),
                                                    config: fixture.config, nowMs: 0)
                    log.close()
                } catch {
                    XCTAssertTrue(disk.crashed, "\(error)")
                }
                let crashed = disk.crashed
                if !crashed { fixture.crash(.dropUnsynced) }
                try assertIntact(fixture, before: before, logEndOffset: end, "pass crash \(point), recovery crash \(recoveryCrashAt)")
                if !crashed { break }
                recoveryCrashAt += 1
            }
            XCTAssertGreaterThan(recoveryCrashAt, 3)
        }
    }
}
