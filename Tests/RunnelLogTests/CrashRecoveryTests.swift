import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

final class CrashRecoveryTests: XCTestCase {
    /// A synced batch, then one append of two batches torn at every byte: recovery keeps the synced batch
    /// and each later batch only if it survived whole, never a partial one.
    func testCrashTearingTheLastAppendAtEveryByteKeepsOnlyWholeBatches() throws {
        let first = TestBatches.make(baseOffset: 0, records: 2)
        let second = TestBatches.make(baseOffset: 2, records: 3, valueBytes: 7)
        let third = TestBatches.make(baseOffset: 5, records: 1, valueBytes: 40)
        let torn = TestBatches.concat([second, third])
        for kept in 0...torn.readableBytes {
            let fixture = try LogFixture()
            let log = try fixture.open()
            try fixture.appendDurably(log, first)
            try log.appendAsLeader(torn, leaderEpoch: 0, nowMs: 0)
            XCTAssertEqual(log.flushedOffset, 2)
            XCTAssertEqual(fixture.fileSystem.unsyncedBytes(fixture.segmentPath(0)), torn.readableBytes)
            fixture.crash(.keepUnsyncedBytes([fixture.segmentPath(0): kept]))

            let recovered = try fixture.open()
            let expectedEnd: Int64 = kept < second.readableBytes ? 2 : kept < torn.readableBytes ? 5 : 6
            XCTAssertEqual(recovered.logEndOffset, expectedEnd, "kept \(kept) bytes")
            XCTAssertEqual(recovered.flushedOffset, expectedEnd)
            let headers = try fixture.readAll(recovered)  // checks every CRC
            XCTAssertEqual(headers.last?.nextOffset, expectedEnd)
            let expectedBytes = [first, second, third].prefix { _ in true }
                .reduce(into: (0, 0)) { acc, batch in
                    if acc.1 + batch.readableBytes <= first.readableBytes + kept { acc.0 += batch.readableBytes }
                    acc.1 += batch.readableBytes
                }.0
            XCTAssertEqual(recovered.sizeBytes, Int64(expectedBytes), "kept \(kept) bytes")
            // The recovered log takes appends where it ends.
            let info = try recovered.appendAsLeader(TestBatches.make(baseOffset: expectedEnd), leaderEpoch: 0, nowMs: 0)
            XCTAssertEqual(info.firstOffset, expectedEnd)
        }
    }

    func testCrashDropsUnsyncedAppendsAndKeepsSyncedOnes() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, records: 4))
        try log.appendAsLeader(TestBatches.make(baseOffset: 4, records: 4), leaderEpoch: 0, nowMs: 0)
        XCTAssertEqual(log.logEndOffset, 8)
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 4)
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [0])
    }

    /// Whatever a crash keeps of unsynced writes across rolls, recovery yields contiguous whole batches
    /// with valid CRCs, and never less than what was reported flushed.
    func testSeededCrashesNeverLoseFlushedDataNorKeepPartialBatches() throws {
        for seed in UInt64(1)...40 {
            var random = SplitMix64(seed: seed)
            let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 600, retentionMs: nil, indexIntervalBytes: 150))
            let log = try fixture.open()
            var next: Int64 = 0
            for _ in 0..<(20 + Int(random.next() % 20)) {
                let records = 1 + Int(random.next() % 4)
                try log.appendAsLeader(TestBatches.make(baseOffset: next, records: records, timestampMs: next * 10,
                                                        valueBytes: Int(random.next() % 60)), leaderEpoch: 0, nowMs: 0)
                next += Int64(records)
                if random.next() % 3 == 0 { fixture.scheduler.runPass() }
                if random.next() % 7 == 0 { try log.writeCheckpoints() }
            }
            let flushed = log.flushedOffset
            fixture.crash(.seeded(seed))
            let recovered = try fixture.open()
            XCTAssertGreaterThanOrEqual(recovered.logEndOffset, flushed, "seed \(seed)")
            let headers = try fixture.readAll(recovered)
            var expected: Int64 = 0
            for header in headers {
                XCTAssertEqual(header.baseOffset, expected, "seed \(seed)")
                expected = header.nextOffset
            }
            XCTAssertEqual(expected, recovered.logEndOffset, "seed \(seed)")
            for offset in Int64(0)..<recovered.logEndOffset {
                let result = try recovered.read(from: offset, maxBytes: 1, upTo: recovered.logEndOffset)
                XCTAssertEqual(result.firstBatchOffset.map { $0 <= offset }, true, "seed \(seed) offset \(offset)")
            }
        }
    }

    func testCorruptBatchInTheLastSegmentIsCutOffWithEverythingAfterIt() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let batches = (0..<4).map { TestBatches.make(baseOffset: Int64($0)) }
        for batch in batches { try fixture.appendDurably(log, batch) }
        fixture.crash(.dropUnsynced)  // not a clean close: the active segment is scanned on open
        // Flip one byte inside the third batch's records: its CRC no longer holds.
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        let position = Int64(2 * batches[0].readableBytes + 70)
        let byte = try file.read(at: position, count: 1)[0]
        try file.write([byte ^ 0xFF], at: position)
        try file.sync()
        file.close()

        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 2)
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [0, 1])
    }

    func testRollingSyncsTheOldSegmentSoACrashKeepsItWhole() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 350, retentionMs: nil))
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, valueBytes: 100))
        try log.appendAsLeader(TestBatches.make(baseOffset: 1, valueBytes: 60), leaderEpoch: 0, nowMs: 0)
        try log.appendAsLeader(TestBatches.make(baseOffset: 2, valueBytes: 100), leaderEpoch: 0, nowMs: 0)
        XCTAssertEqual(log.segmentBaseOffsets, [0, 2])
        XCTAssertEqual(fixture.fileSystem.unsyncedBytes(fixture.segmentPath(0)), 0)
        fixture.crash(.dropUnsynced)
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 2)
        XCTAssertEqual(try fixture.readAll(recovered).map(\.baseOffset), [0, 1])
    }

    func testDeletedIndexFilesAreRebuiltOnOpen() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 1_000, retentionMs: nil, indexIntervalBytes: 100))
        let log = try fixture.open()
        for i in 0..<40 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i), timestampMs: Int64(i * 100))) }
        try log.writeCheckpoints()
        log.close()
        XCTAssertGreaterThan(try indexSize(fixture, 0, ".index"), 0)
        try fixture.fileSystem.removeFile(fixture.segmentPath(0, ".index"))
        try fixture.fileSystem.removeFile(fixture.segmentPath(0, ".timeindex"))

        let reopened = try fixture.open()
        XCTAssertGreaterThan(try indexSize(fixture, 0, ".index"), 0)
        XCTAssertGreaterThan(try indexSize(fixture, 0, ".timeindex"), 0)
        for offset in Int64(0)..<40 {
            XCTAssertEqual(try reopened.read(from: offset, maxBytes: 1, upTo: 40).firstBatchOffset, offset)
            XCTAssertEqual(try reopened.offsetForTimestamp(offset * 100 - 50)?.baseOffset, offset)
        }
    }

    func testInconsistentIndexIsDetectedAndRebuilt() throws {
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 1_000, retentionMs: nil, indexIntervalBytes: 100))
        let log = try fixture.open()
        for i in 0..<40 { try fixture.appendDurably(log, TestBatches.make(baseOffset: Int64(i))) }
        try log.writeCheckpoints()
        log.close()
        let path = fixture.segmentPath(0, ".index")
        let original = try indexSize(fixture, 0, ".index")
        // An entry pointing at the wrong place: relative offset 3 at position 7.
        let file = try fixture.fileSystem.openFile(path, options: [])
        try file.write([0, 0, 0, 3, 0, 0, 0, 7], at: original - 8)
        try file.sync()
        file.close()

        let reopened = try fixture.open()
        XCTAssertEqual(try indexSize(fixture, 0, ".index"), original)
        for offset in Int64(0)..<40 {
            XCTAssertEqual(try reopened.read(from: offset, maxBytes: 1, upTo: 40).firstBatchOffset, offset)
        }
    }

    func testHighWatermarkIsRestoredNoHigherThanTheRecoveredLogEnd() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        try fixture.appendDurably(log, TestBatches.make(baseOffset: 0, records: 5))
        log.updateHighWatermark(5)
        try log.writeCheckpoints()
        XCTAssertEqual(try fixture.open().highWatermark, 5)  // a second handle reads the checkpoint
        // The segment loses its bytes and the recovery point its checkpoint (a disk that lied; with the
        // recovery point intact this is reported as corruption, see CorruptionRecoveryTests): the
        // checkpointed high watermark must shrink.
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        try file.truncate(to: 10)
        try file.sync()
        file.close()
        try fixture.fileSystem.writeAtomically([], to: fixture.directory + "/recovery-point-checkpoint")  // unreadable
        let recovered = try fixture.open()
        XCTAssertEqual(recovered.logEndOffset, 0)
        XCTAssertEqual(recovered.highWatermark, 0)
    }

    private func indexSize(_ fixture: LogFixture, _ base: Int64, _ suffix: String) throws -> Int64 {
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(base, suffix), options: [])
        defer { file.close() }
        return try file.size()
    }
}

final class CleanShutdownTests: XCTestCase {
    private func closedLog(_ fixture: LogFixture) throws -> [ByteBuffer] {
        let log = try fixture.open()
        let batches = (0..<6).map { TestBatches.make(baseOffset: Int64($0), timestampMs: Int64($0) * 100) }
        for batch in batches { try log.appendAsLeader(batch, leaderEpoch: 0, nowMs: 0) }
        log.close()  // no sync pass ran: the clean close syncs the active segment itself
        return batches
    }

    /// Flips a byte inside the records of the third batch; its CRC no longer holds.
    private func corruptThirdBatch(_ fixture: LogFixture, _ batches: [ByteBuffer]) throws {
        let file = try fixture.fileSystem.openFile(fixture.segmentPath(0), options: [])
        let position = Int64(2 * batches[0].readableBytes + 70)
        try file.write([try file.read(at: position, count: 1)[0] ^ 0xFF], at: position)
        try file.sync()
        file.close()
    }

    func testCleanCloseMakesTheActiveSegmentDurableAndSkipsItsScanOnce() throws {
        let fixture = try LogFixture()
        let batches = try closedLog(fixture)
        fixture.crash(.dropUnsynced)
        // The scan is skipped: corruption that only a CRC check would find goes unnoticed (as in Kafka).
        try corruptThirdBatch(fixture, batches)
        let reopened = try fixture.open()
        XCTAssertEqual(reopened.logEndOffset, 6)
        XCTAssertEqual(try reopened.offsetForMaxTimestamp()?.baseOffset, 5)
        XCTAssertEqual(try reopened.offsetForTimestamp(250)?.baseOffset, 3)
        XCTAssertFalse(fixture.fileSystem.fileExists(fixture.directory + "/clean-shutdown"))
        // The marker is gone, so the next open after a crash scans again; the batches were synced by the
        // close, so the corrupt one is reported, not cut.
        fixture.crash(.dropUnsynced)
        XCTAssertThrowsError(try fixture.open()) { error in
            guard case .corrupt(let corruption)? = error as? LogError else { return XCTFail("\(error)") }
            XCTAssertEqual(corruption.path, fixture.segmentPath(0))
            XCTAssertEqual(corruption.position, Int64(2 * batches[0].readableBytes))
        }
    }

    func testWithoutACleanCloseTheActiveSegmentIsScanned() throws {
        let fixture = try LogFixture()
        let log = try fixture.open()
        let batches = (0..<6).map { TestBatches.make(baseOffset: Int64($0)) }
        for batch in batches { try fixture.appendDurably(log, batch) }
        fixture.crash(.dropUnsynced)
        try corruptThirdBatch(fixture, batches)
        XCTAssertEqual(try fixture.open().logEndOffset, 2)
    }
}
