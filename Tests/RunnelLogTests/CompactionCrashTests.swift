import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

/// A `SimulatedFileSystem` that crashes (with a seeded tear) instead of carrying out its `crashAt`-th
/// mutating operation — file creation, write, truncate, sync, rename, removal, directory sync.
/// Test-only; single-threaded use.
final class CrashingFileSystem: FileSystem, @unchecked Sendable {
    let base: SimulatedFileSystem
    let crashAt: Int
    let tearSeed: UInt64
    private(set) var operations = 0
    private(set) var crashed = false

    init(base: SimulatedFileSystem, crashAt: Int, tearSeed: UInt64) {
        self.base = base
        self.crashAt = crashAt
        self.tearSeed = tearSeed
    }

    func step() throws {
        if crashed { throw StorageError.closed("crashed") }
        operations += 1
        if operations == crashAt {
            crashed = true
            base.crash(.seeded(tearSeed))
            throw StorageError.io(operation: "simulated power loss", path: "", errno: 0)
        }
    }

    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        if options.contains(.create) || options.contains(.truncate) { try step() }
        return CrashingFile(base: try base.openFile(path, options: options), fileSystem: self)
    }
    func createDirectory(_ path: String) throws { try step(); try base.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    func removeFile(_ path: String) throws { try step(); try base.removeFile(path) }
    func removeDirectory(_ path: String) throws { try step(); try base.removeDirectory(path) }
    func rename(from: String, to: String) throws { try step(); try base.rename(from: from, to: to) }
    func syncDirectory(_ path: String) throws { try step(); try base.syncDirectory(path) }
}

final class CrashingFile: StorageFile, @unchecked Sendable {
    let base: any StorageFile
    let fileSystem: CrashingFileSystem

    init(base: any StorageFile, fileSystem: CrashingFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    var fileDescriptor: Int32? { nil }
    func size() throws -> Int64 { try base.size() }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int { try base.read(into: buffer, at: offset) }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws { try fileSystem.step(); try base.write(bytes, at: offset) }
    func truncate(to size: Int64) throws { try fileSystem.step(); try base.truncate(to: size) }
    func sync() throws { try fileSystem.step(); try base.sync() }
    func close() { base.close() }
}

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
        let disk = CrashingFileSystem(base: fixture.fileSystem, crashAt: crashAt, tearSeed: UInt64(crashAt))
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
                let disk = CrashingFileSystem(base: fixture.fileSystem, crashAt: recoveryCrashAt, tearSeed: UInt64(recoveryCrashAt))
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
