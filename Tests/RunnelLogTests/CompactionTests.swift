import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class CompactionTests: XCTestCase {
    static func compactConfig(segmentBytesMax: Int = 400, deleteRetentionMs: Int64 = 86_400_000, ratio: Double = 0,
                              policy: CleanupPolicy = .compact) -> LogConfig {
        LogConfig(segmentBytesMax: segmentBytesMax, retentionMs: nil, indexIntervalBytes: 100, cleanupPolicy: policy,
                  deleteRetentionMs: deleteRetentionMs, minCleanableDirtyRatio: ratio)
    }

    /// 120 one-record batches over 6 keys, rolling every few batches.
    private func fillWithUpdates(_ fixture: LogFixture, _ log: PartitionLog, count: Int = 120, keys: Int = 6, timestampMs: Int64 = 1_000) throws {
        for i in 0..<count {
            let update = KeyedUpdate(key: "k\(i % keys)", value: "v\(i)")
            try fixture.appendCommitted(log, Keyed.batch([update], baseOffset: Int64(i), timestampMs: timestampMs))
        }
    }

    func testCleaningKeepsTheLatestRecordPerKeyAtItsOriginalOffset() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log)
        let before = try Keyed.records(log)
        let segmentsBefore = log.segmentBaseOffsets
        XCTAssertGreaterThan(segmentsBefore.count, 5)

        let outcome = try log.clean(nowMs: 10_000)
        XCTAssertTrue(outcome.ran)
        XCTAssertGreaterThan(outcome.recordsRemoved, 80)
        XCTAssertLessThan(outcome.bytesAfter, outcome.bytesBefore)
        XCTAssertEqual(outcome.cleanedUpTo, segmentsBefore.last)
        let after = try Keyed.records(log)
        Keyed.assertCompacted(after, from: before)
        XCTAssertLessThan(log.sizeBytes, Int64(before.count) * 30)
        XCTAssertEqual(log.logEndOffset, 120)
        XCTAssertEqual(log.logStartOffset, 0)
        // Below the active segment each key appears once.
        let cleanedPart = after.filter { $0.offset < segmentsBefore.last! }
        XCTAssertEqual(Set(cleanedPart.compactMap(\.key)).count, cleanedPart.count)
        XCTAssertEqual(log.cleanerCheckpoint, segmentsBefore.last)
    }

    func testNothingIsCleanedWithoutCompactPolicyOrBelowTheDirtyRatio() throws {
        let deleteOnly = try LogFixture(config: Self.compactConfig(policy: .delete))
        var log = try deleteOnly.open()
        try fillWithUpdates(deleteOnly, log, count: 40)
        XCTAssertFalse(try log.clean(nowMs: 10_000).ran)

        let fixture = try LogFixture(config: Self.compactConfig(ratio: 0.9))
        log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 40)
        XCTAssertTrue(try log.clean(nowMs: 10_000).ran)  // all dirty: ratio 1
        // Two more segments of dirty data are well under 90 % of the log.
        for i in 40..<50 {
            try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 6)", value: "v\(i)")], baseOffset: Int64(i)))
        }
        XCTAssertFalse(try log.clean(nowMs: 10_000).ran)
    }

    func testCompactOnlyLogLosesNoSegmentToRetention() throws {
        var config = Self.compactConfig()
        config.retentionMs = 1
        config.retentionBytes = 100
        let fixture = try LogFixture(config: config)
        let log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 40)
        let segments = log.segmentBaseOffsets
        let outcome = try log.applyRetention(nowMs: 1_000_000)
        XCTAssertEqual(outcome.deletedSegments, 0)
        XCTAssertEqual(log.segmentBaseOffsets, segments)

        config.cleanupPolicy = [.compact, .delete]
        log.updateConfig(config)
        XCTAssertGreaterThan(try log.applyRetention(nowMs: 1_000_000).deletedSegments, 0)
    }

    func testTombstonesStayUntilDeleteRetentionAndThenGo() throws {
        let fixture = try LogFixture(config: Self.compactConfig(deleteRetentionMs: 5_000))
        let log = try fixture.open()
        var offset: Int64 = 0
        func append(_ updates: [KeyedUpdate], at timestampMs: Int64) throws {
            try fixture.appendCommitted(log, Keyed.batch(updates, baseOffset: offset, timestampMs: timestampMs))
            offset += Int64(updates.count)
        }
        try append([KeyedUpdate(key: "gone", value: "old"), KeyedUpdate(key: "kept", value: "a")], at: 1_000)
        try append([KeyedUpdate(key: "gone", value: nil)], at: 1_000)  // the tombstone, offset 2
        for i in 0..<30 { try append([KeyedUpdate(key: "filler\(i % 3)", value: "x\(i)")], at: 1_000) }

        try log.clean(nowMs: 2_000)
        var latest = Keyed.latest(try Keyed.records(log))
        XCTAssertEqual(latest["gone"]?.offset, 2)
        XCTAssertNil(latest["gone"]!.value)
        XCTAssertEqual(try Keyed.records(log).filter { $0.key == Array("gone".utf8) }.count, 1, "the old value is gone")

        // Compacted once, but younger than delete.retention.ms: still there after another pass.
        for i in 0..<10 { try append([KeyedUpdate(key: "filler\(i % 3)", value: "y\(i)")], at: 1_000) }
        try log.clean(nowMs: 5_000)
        latest = Keyed.latest(try Keyed.records(log))
        XCTAssertEqual(latest["gone"]?.offset, 2)

        // Older than delete.retention.ms: the next pass removes it; other keys are untouched.
        for i in 0..<10 { try append([KeyedUpdate(key: "filler\(i % 3)", value: "z\(i)")], at: 1_000) }
        try log.clean(nowMs: 7_000)
        latest = Keyed.latest(try Keyed.records(log))
        XCTAssertNil(latest["gone"])
        XCTAssertEqual(latest["kept"]?.value, "a")
        XCTAssertEqual(latest["kept"]?.offset, 1)
    }

    func testBoundedOffsetMapCleansInPartialPassesThatConverge() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 120, keys: 12)
        let before = try Keyed.records(log)
        let activeBase = log.segmentBaseOffsets.last!
        let limits = CleanerLimits(offsetMapEntriesMax: 5)
        var passes = 0
        var previous: Int64 = 0
        while passes < 100 {
            let outcome = try log.clean(nowMs: 10_000, limits: limits)
            guard outcome.ran else { break }
            passes += 1
            XCTAssertGreaterThan(outcome.cleanedUpTo, previous, "each pass makes progress")
            XCTAssertLessThanOrEqual(outcome.cleanedUpTo - outcome.firstDirtyOffset, 5, "five keys: five one-record batches")
            previous = outcome.cleanedUpTo
            Keyed.assertCompacted(try Keyed.records(log), from: before, "after pass \(passes)")
        }
        XCTAssertGreaterThan(passes, 10)
        XCTAssertEqual(log.cleanerCheckpoint, activeBase)
        let cleanedPart = try Keyed.records(log).filter { $0.offset < activeBase }
        XCTAssertEqual(Set(cleanedPart.compactMap(\.key)).count, cleanedPart.count)
    }

    func testByteBudgetBoundsThePass() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 60)
        let before = try Keyed.records(log)
        let outcome = try log.clean(nowMs: 10_000, limits: CleanerLimits(dirtyBytesPerPassMax: 300))
        XCTAssertLessThanOrEqual(outcome.dirtyBytesRead, 300)
        XCTAssertLessThan(outcome.cleanedUpTo, log.segmentBaseOffsets.last!)
        Keyed.assertCompacted(try Keyed.records(log), from: before)
    }

    func testActiveSegmentAndDataAtOrAboveTheHighWatermarkAreUntouched() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 40)
        // Appended and synced but not committed: the high watermark stays at 40.
        for i in 40..<80 {
            try log.appendAsLeader(Keyed.batch([KeyedUpdate(key: "k\(i % 6)", value: "v\(i)")], baseOffset: Int64(i)), leaderEpoch: 0, nowMs: 0)
        }
        fixture.scheduler.runPass()
        XCTAssertEqual(log.highWatermark, 40)
        let before = try Keyed.records(log)
        let outcome = try log.clean(nowMs: 10_000)
        XCTAssertTrue(outcome.ran)
        XCTAssertLessThanOrEqual(outcome.cleanedUpTo, 40)
        let after = try Keyed.records(log)
        Keyed.assertCompacted(after, from: before)
        XCTAssertEqual(after.filter { $0.offset >= 40 }, before.filter { $0.offset >= 40 }, "nothing at or above the HW changes")
        XCTAssertLessThan(after.count, before.count)
    }

    func testReadsFromAnyOffsetWorkAcrossCleanedSegmentsWithGaps() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log)
        try log.clean(nowMs: 10_000)
        let after = try Keyed.records(log)
        let offsets = after.map(\.offset)
        // From every offset (gaps too) a read returns the first surviving batch at or after it.
        for offset in Int64(0)..<log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1, upTo: log.logEndOffset)
            let batches = try RecordBatch.decodeAll(in: result.records, maxUncompressedBytes: 1 << 20)
            let first = batches.first?.records.first { $0.offset >= offset }
            XCTAssertEqual(first?.offset, offsets.first { $0 >= offset }, "read from \(offset)")
        }
        XCTAssertEqual(try fixture.readAll(log).last?.nextOffset, 120)
    }

    func testCleanedLogSurvivesRestartAndKeepsCleaning() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        var log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 60)
        let original = try Keyed.records(log)
        try log.clean(nowMs: 10_000)
        let cleaned = try Keyed.records(log)
        log.close()
        log = try fixture.open()
        XCTAssertEqual(try Keyed.records(log), cleaned)
        XCTAssertEqual(log.logEndOffset, 60)
        // More updates after the restart compact together with the cleaned part.
        for i in 60..<120 {
            try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 6)", value: "v\(i)")], baseOffset: Int64(i)))
        }
        let before = try Keyed.records(log)
        XCTAssertTrue(try log.clean(nowMs: 10_000).ran)
        Keyed.assertCompacted(try Keyed.records(log), from: before)
        Keyed.assertCompacted(try Keyed.records(log), from: original + before.filter { $0.offset >= 60 })
        // Power loss after cleaning: the synced, swapped segments are what recovery finds.
        let afterClean = try Keyed.records(log)
        fixture.crash(.dropUnsynced)
        log = try fixture.open()
        XCTAssertEqual(try Keyed.records(log), afterClean)
    }

    func testCompressedBatchesArePartlyKeptWithTheirCodecAndOffsets() throws {
        let fixture = try LogFixture(config: Self.compactConfig(segmentBytesMax: 500))
        let log = try fixture.open()
        var offset: Int64 = 0
        for round in 0..<24 {
            let updates = (0..<8).map { KeyedUpdate(key: "k\(($0 + round) % 10)", value: "round \(round) value \($0)") }
            try fixture.appendCommitted(log, Keyed.batch(updates, baseOffset: offset, codec: .gzip))
            offset += 8
        }
        let before = try Keyed.records(log)
        let headersBefore = try fixture.readAll(log)
        try log.clean(nowMs: 10_000)
        let headersAfter = try fixture.readAll(log)
        Keyed.assertCompacted(try Keyed.records(log), from: before)
        XCTAssertLessThan(try Keyed.records(log).count, before.count)
        XCTAssertTrue(headersAfter.allSatisfy { $0.codec == .gzip })
        // Batches keep their base and last offsets: no offset moves, whatever records went.
        let ranges = Set(headersBefore.map { [$0.baseOffset, $0.lastOffset] })
        XCTAssertTrue(headersAfter.allSatisfy { ranges.contains([$0.baseOffset, $0.lastOffset]) })
    }

    func testIdempotentProducersLastBatchStaysAsAnEmptyBatch() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        // Producer 7 writes k0 twice, then plain writes supersede its last batch's key.
        try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k0", value: "p0")], baseOffset: 0, producerId: 7, producerEpoch: 0, baseSequence: 0))
        try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k0", value: "p1")], baseOffset: 1, producerId: 7, producerEpoch: 0, baseSequence: 1))
        for i in 2..<40 {
            try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 2)", value: "v\(i)")], baseOffset: Int64(i)))
        }
        try log.clean(nowMs: 10_000)
        let headers = try fixture.readAll(log)
        XCTAssertFalse(headers.contains { $0.baseOffset == 0 }, "an older batch of the producer goes")
        let kept = try XCTUnwrap(headers.first { $0.baseOffset == 1 })
        XCTAssertEqual(kept.recordCount, 0)
        XCTAssertEqual(kept.producerId, 7)
        XCTAssertEqual(kept.baseSequence, 1)
        XCTAssertEqual(kept.lastSequence, 1)
        // After a restart the producer's state still knows sequence 1: a retry of it is a duplicate.
        log.close()
        let reopened = try fixture.open()
        XCTAssertEqual(reopened.producerState[7]?.batches.last?.lastSequence, 1)
    }

    func testTruncationBelowTheCleanerCheckpointLowersIt() throws {
        let fixture = try LogFixture(config: Self.compactConfig())
        let log = try fixture.open()
        try fillWithUpdates(fixture, log, count: 60)
        try log.clean(nowMs: 10_000)
        let checkpoint = try XCTUnwrap(log.cleanerCheckpoint)
        XCTAssertGreaterThan(checkpoint, 20)
        try log.truncate(to: 20, nowMs: 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(log.cleanerCheckpoint), 20)
    }
}

/// A simulated disk that runs `hook` once, when the cleaner creates its first `.cleaned` log: a point
/// inside a pass where it holds no lock.
final class HookedFileSystem: FileSystem, @unchecked Sendable {
    let base: SimulatedFileSystem
    var hook: (() throws -> Void)?

    init(base: SimulatedFileSystem) { self.base = base }

    func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        if path.hasSuffix(".log.cleaned"), let hook {
            self.hook = nil
            try hook()
        }
        return try base.openFile(path, options: options)
    }
    func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws -> [String] { try base.contentsOfDirectory(path) }
    func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    func directoryExists(_ path: String) -> Bool { base.directoryExists(path) }
    func removeFile(_ path: String) throws { try base.removeFile(path) }
    func removeDirectory(_ path: String) throws { try base.removeDirectory(path) }
    func rename(from: String, to: String) throws { try base.rename(from: from, to: to) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
}

final class CompactionConcurrencyTests: XCTestCase {
    private func openHooked() throws -> (LogFixture, HookedFileSystem, PartitionLog) {
        let fixture = try LogFixture(config: CompactionTests.compactConfig())
        let disk = HookedFileSystem(base: fixture.fileSystem)
        let log = try PartitionLog.open(directory: fixture.directory, fileSystem: disk, syncScheduler: fixture.scheduler,
                                        config: fixture.config, nowMs: 0)
        for i in 0..<60 {
            try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 6)", value: "v\(i)")], baseOffset: Int64(i)))
        }
        return (fixture, disk, log)
    }

    /// The lock is not held while the cleaned copies are written: an append and a read in the middle of
    /// a pass go through (they would deadlock otherwise), and the pass still swaps its copies in.
    func testReadsAndAppendsGoOnWhileAPassWritesItsCopies() throws {
        let (fixture, disk, log) = try openHooked()
        var readDuringPass: LogReadResult?
        disk.hook = {
            try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k0", value: "during")], baseOffset: 60))
            readDuringPass = try log.read(from: 0, maxBytes: 1 << 20, upTo: log.logEndOffset)
        }
        let before = try Keyed.records(log).filter { $0.offset < 60 }
        let outcome = try log.clean(nowMs: 10_000)
        XCTAssertGreaterThan(outcome.segmentsRewritten, 0)
        XCTAssertNotNil(readDuringPass)
        let after = try Keyed.records(log)
        XCTAssertEqual(Keyed.latest(after)["k0"]?.value, "during")
        XCTAssertEqual(log.logEndOffset, 61)
        Keyed.assertCompacted(after.filter { $0.offset < 60 }, from: before)
    }

    /// A truncation while a pass writes its copies makes the pass swap nothing and record no progress;
    /// its cleaned files are removed and the log is the truncated one.
    func testTruncationDuringAPassMakesItSwapNothing() throws {
        let (fixture, disk, log) = try openHooked()
        let before = try Keyed.records(log)
        disk.hook = { try log.truncate(to: 30, nowMs: 0) }
        let outcome = try log.clean(nowMs: 10_000)
        XCTAssertEqual(outcome.segmentsRewritten, 0)
        XCTAssertNil(log.cleanerCheckpoint)
        XCTAssertEqual(log.logEndOffset, 30)
        XCTAssertEqual(try Keyed.records(log), before.filter { $0.offset < 30 })
        XCTAssertFalse(try fixture.fileSystem.contentsOfDirectory(fixture.directory).contains { $0.hasSuffix(".cleaned") })
        // The next pass cleans the truncated log.
        XCTAssertGreaterThan(try log.clean(nowMs: 10_000).segmentsRewritten, 0)
        Keyed.assertCompacted(try Keyed.records(log), from: before.filter { $0.offset < 30 })
    }
}
