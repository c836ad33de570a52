import RunnelRaft
@testable import RunnelRaftStorage
import RunnelStorage
import Synchronization
import XCTest

final class RaftWALTests: XCTestCase {
    let path = "/n1"
    let node = NodeID(1)
    let directory = DirectoryID(high: 0, low: 77)
    var voters: [Voter] { [Voter(id: node, directory: directory), Voter(id: NodeID(2), directory: DirectoryID(high: 0, low: 2))] }

    func formatted(_ fs: SimulatedFileSystem, options: RaftWALOptions = RaftWALOptions()) throws -> RaftWAL {
        try RaftWAL.format(
            fileSystem: fs, path: path, identity: DirectoryIdentity(nodeID: node, directoryID: directory),
            initialState: .bootstrap(voters: voters))
        return try RaftWAL.open(fileSystem: fs, path: path, nodeID: node, options: options)
    }

    func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
        range.map { Entry(term: Term(term), index: LogIndex($0), data: Array("e\($0)t\(term)".utf8)) }
    }

    func assertState(_ state: PersistentState, equals wal: RaftWAL, _ message: String = "", line: UInt = #line) {
        XCTAssertEqual(state.hardState, wal.hardState, message, line: line)
        XCTAssertEqual(state.snapshot.metadata, wal.snapshotMetadata, message, line: line)
        XCTAssertEqual(state.entries, wal.entries, message, line: line)
    }

    func testSyncThroughTheSharedSchedulerIsDurableOnlyAfterItsPass() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        let scheduler = ManualSyncScheduler()
        try wal.save(hardState: HardState(term: Term(1), vote: node, commit: .zero), entries: entries(1...3, term: 1), snapshot: nil)
        let pending = try wal.prepareSync()
        let outcome = Mutex<Result<Void, StorageError>?>(nil)
        RaftWAL.sync(pending, using: scheduler) { result in outcome.withLock { $0 = result } }
        XCTAssertNil(outcome.withLock { $0 }, "nothing is durable before the scheduler's pass")
        XCTAssertNotEqual(wal.durableHardState.term, Term(1))
        scheduler.runPass()
        let result = try XCTUnwrap(outcome.withLock { $0 })
        try wal.finishSync(pending, result: result)
        XCTAssertEqual(wal.durableHardState, HardState(term: Term(1), vote: node, commit: .zero))
        fs.crash()
        let reopened = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(reopened.recovered.entries.map(\.index), [LogIndex(1), LogIndex(2), LogIndex(3)])
        XCTAssertEqual(reopened.recovered.hardState.vote, node)
    }

    func testASchedulerPassThatFailsIsFinal() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: nil, entries: entries(1...1, term: 1), snapshot: nil)
        let pending = try wal.prepareSync()
        XCTAssertThrowsError(try wal.finishSync(pending, result: .failure(.syncFailed(path: path, errno: 5))))
        XCTAssertThrowsError(try wal.sync(), "after a failed sync nothing may claim durability again")
    }

    func testFormatThenOpenRecoversTheInitialStateAndIdentity() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        XCTAssertEqual(wal.identity, DirectoryIdentity(nodeID: node, directoryID: directory))
        XCTAssertEqual(wal.recovered, .bootstrap(voters: voters))
        fs.crash()
        let reopened = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(reopened.recovered, .bootstrap(voters: voters), "format is durable on its own")
    }

    func testDirectoryOfAnotherNodeOrUnformattedIsRefused() throws {
        let fs = SimulatedFileSystem()
        XCTAssertThrowsError(try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)) {
            XCTAssertEqual($0 as? RaftWALError, .notFormatted(path: path))
        }
        _ = try formatted(fs)
        XCTAssertThrowsError(try RaftWAL.open(fileSystem: fs, path: path, nodeID: NodeID(9))) {
            XCTAssertEqual($0 as? RaftWALError, .identityMismatch(expected: NodeID(9), found: node))
        }
        XCTAssertThrowsError(
            try RaftWAL.format(
                fileSystem: fs, path: path, identity: DirectoryIdentity(nodeID: node, directoryID: directory),
                initialState: .empty)
        ) { XCTAssertEqual($0 as? RaftWALError, .alreadyFormatted(path: path)) }
    }

    func testOpenOrFormatDrawsTheDirectoryIDFromTheCallersGenerator() throws {
        func draw() throws -> DirectoryID {
            let fs = SimulatedFileSystem()
            var random = SplitMix64(seed: 42)
            let wal = try RaftWAL.openOrFormat(
                fileSystem: fs, path: path, nodeID: node, random: &random, initialState: { _ in .empty })
            var again = SplitMix64(seed: 99)
            let reopened = try RaftWAL.openOrFormat(
                fileSystem: fs, path: path, nodeID: node, random: &again, initialState: { _ in .empty })
            XCTAssertEqual(reopened.identity, wal.identity, "an existing directory keeps its id")
            return wal.identity.directoryID
        }
        let first = try draw()
        XCTAssertNotEqual(first, .none)
        XCTAssertEqual(try draw(), first, "same seed, same directory id")
    }

    /// Crashes after every write of a scripted history, keeping every possible number of unsynced bytes,
    /// and checks that recovery yields the synced state plus exactly the records wholly kept.
    func testCrashAfterEachWriteAtEveryTearBoundaryRecoversTheSyncedPrefix() throws {
        enum Step { case save(HardState?, [Entry]); case sync }
        let script: [Step] = [
            .save(HardState(term: Term(1), vote: node, commit: .zero), entries(1...2, term: 1)), .sync,
            .save(HardState(term: Term(1), vote: node, commit: LogIndex(2)), entries(3...3, term: 1)),
            .save(nil, entries(4...5, term: 1)), .sync,
            .save(HardState(term: Term(2), vote: nil, commit: LogIndex(2)), entries(4...6, term: 2)),
            .save(HardState(term: Term(2), vote: NodeID(2), commit: LogIndex(5)), []), .sync,
        ]
        /// The records one save writes, as `save` documents.
        func records(_ hard: HardState?, _ new: [Entry], lastIndex: LogIndex) -> [WALRecord] {
            var out: [WALRecord] = []
            if let first = new.first, first.index <= lastIndex { out.append(.truncate(from: first.index)) }
            out += new.map(WALRecord.entry)
            if let hard { out.append(.hardState(hard)) }
            return out
        }
        var tornCases = 0
        for crashAfter in script.indices {
            // The synced model, and the records written since the last sync.
            var synced = LogReplay()
            _ = synced.apply(.hardState(HardState()))
            _ = synced.apply(.snapshot(index: .zero, term: .zero))
            var pending: [WALRecord] = []
            var model = synced
            for step in script[...crashAfter] {
                switch step {
                case .save(let hard, let new):
                    let written = records(hard, new, lastIndex: model.lastIndex)
                    for record in written { XCTAssertNil(model.apply(record)) }
                    pending += written
                case .sync:
                    synced = model
                    pending = []
                }
            }
            var frameEnds: [Int] = []
            var bytes: [UInt8] = []
            for record in pending {
                WALFrame.append(record, to: &bytes)
                frameEnds.append(bytes.count)
            }
            for keep in 0...bytes.count {
                let fs = SimulatedFileSystem()
                let wal = try formatted(fs)
                for step in script[...crashAfter] {
                    switch step {
                    case .save(let hard, let new): try wal.save(hardState: hard, entries: new, snapshot: nil)
                    case .sync: try wal.sync()
                    }
                }
                let segment = Path.join(path, RaftWAL.segmentName(1))
                XCTAssertEqual(fs.unsyncedBytes(segment), bytes.count)
                fs.crash(.keepUnsyncedBytes([segment: keep]))
                let recovered = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
                var expected = synced
                for (record, end) in zip(pending, frameEnds) where end <= keep { _ = expected.apply(record) }
                let context = "crash after step \(crashAfter), keeping \(keep) of \(bytes.count) unsynced bytes"
                XCTAssertEqual(recovered.recovered.hardState, expected.hardState, context)
                XCTAssertEqual(recovered.recovered.entries, expected.entries, context)
                let tornBytes = keep - (frameEnds.last(where: { $0 <= keep }) ?? 0)
                XCTAssertEqual(recovered.recoveryReport.tornTail?.bytesDropped ?? 0, Int64(tornBytes), context)
                if tornBytes > 0 { tornCases += 1 }
                // The repaired log takes new writes after the cut.
                try recovered.save(hardState: HardState(term: Term(9), vote: nil, commit: .zero), entries: [], snapshot: nil)
                try recovered.sync()
                fs.crash()
                let again = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
                XCTAssertEqual(again.recovered.hardState.term, Term(9), context)
                XCTAssertEqual(again.recovered.entries, expected.entries, context)
            }
        }
        XCTAssertGreaterThan(tornCases, 100, "the script must exercise torn frames")
    }

    func testTruncationOfAConflictingSuffixSurvivesRestart() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: HardState(term: Term(1), vote: nil, commit: LogIndex(2)), entries: entries(1...5, term: 1), snapshot: nil)
        try wal.sync()
        try wal.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(2)), entries: entries(3...4, term: 3), snapshot: nil)
        try wal.sync()
        let expected = entries(1...2, term: 1) + entries(3...4, term: 3)
        XCTAssertEqual(wal.entries, expected)
        fs.crash()
        let reopened = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(reopened.recovered.entries, expected, "entry 5 of term 1 must not come back")
        XCTAssertEqual(reopened.recovered.hardState.term, Term(3))
    }

    func testEntriesThatDoNotContinueTheLogAreRefusedWithoutWriting() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: nil, entries: entries(1...2, term: 1), snapshot: nil)
        XCTAssertThrowsError(try wal.save(hardState: nil, entries: entries(4...4, term: 1), snapshot: nil)) {
            XCTAssertEqual($0 as? RaftWALError, .nonContiguousEntries(expected: LogIndex(3), got: LogIndex(4)))
        }
        XCTAssertEqual(wal.lastIndex, LogIndex(2))
    }

    func testCompactionKeepsLaterEntriesRemovesOldSegmentsAndSurvivesRestart() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs, options: RaftWALOptions(segmentBytesMax: 100))
        for index in 1...20 as ClosedRange<UInt64> {
            try wal.save(
                hardState: HardState(term: Term(1), vote: node, commit: LogIndex(index - 1)),
                entries: entries(index...index, term: 1), snapshot: nil)
            try wal.sync()
        }
        XCTAssertGreaterThan(wal.segmentCount, 5, "small segments roll")
        let membership = Membership(voters: voters)
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: LogIndex(15), term: Term(1), membership: membership), data: [1, 2, 3])
        try wal.compact(to: snapshot)
        XCTAssertEqual(wal.segmentCount, 1)
        let names = try fs.contentsOfDirectory(path)
        XCTAssertEqual(names.filter { $0.hasPrefix("wal-") }.count, 1, "\(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix("snapshot-") }, [SnapshotFile.name(index: LogIndex(15), term: Term(1))])
        fs.crash()
        let reopened = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(reopened.recovered.snapshot, snapshot)
        XCTAssertEqual(reopened.recovered.entries, entries(16...20, term: 1))
        XCTAssertEqual(reopened.recovered.hardState.commit, LogIndex(19))
        // The compacted log keeps growing across restarts.
        try reopened.save(hardState: nil, entries: entries(21...21, term: 2), snapshot: nil)
        try reopened.sync()
        fs.crash()
        XCTAssertEqual(try RaftWAL.open(fileSystem: fs, path: path, nodeID: node).recovered.entries.last?.index, LogIndex(21))
    }

    func testInstalledSnapshotReplacesTheLogAndAnUnsyncedOneIsForgotten() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: HardState(term: Term(1), vote: nil, commit: LogIndex(1)), entries: entries(1...4, term: 1), snapshot: nil)
        try wal.sync()
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: LogIndex(10), term: Term(3), membership: Membership(voters: voters)),
            data: [9])
        try wal.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(10)), entries: entries(11...12, term: 3), snapshot: snapshot)
        // Crash before the sync: the snapshot file is durable but no durable record names it.
        fs.crash()
        let before = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(before.recovered.snapshot.metadata.index, .zero)
        XCTAssertEqual(before.recovered.entries, entries(1...4, term: 1))
        XCTAssertTrue(before.recoveryReport.removedFiles.contains(SnapshotFile.name(index: LogIndex(10), term: Term(3))))

        try before.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(10)), entries: entries(11...12, term: 3), snapshot: snapshot)
        try before.sync()
        fs.crash()
        let after = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)
        XCTAssertEqual(after.recovered.snapshot, snapshot)
        XCTAssertEqual(after.recovered.entries, entries(11...12, term: 3), "the old log is gone")
        XCTAssertEqual(after.segmentCount, 1)
    }

    func testCorruptMiddleRecordStopsRecoveryAndIsReported() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: HardState(term: Term(1), vote: nil, commit: .zero), entries: entries(1...6, term: 1), snapshot: nil)
        try wal.sync()
        let segmentPath = Path.join(path, RaftWAL.segmentName(1))
        let file = try fs.openFile(segmentPath, options: [])
        var bytes = try file.readAll()
        // Flip one byte inside the data of entry 3 (records: hard state, snapshot, entries 1...6, hard state).
        var offset = 0
        for _ in 0..<4 { if case .record(_, let end) = WALFrame.decode(bytes, at: offset) { offset = end } }
        bytes[offset + WALFrame.headerBytes + 20] ^= 0xFF
        try file.write(bytes, at: 0)
        try file.sync()
        XCTAssertThrowsError(try RaftWAL.open(fileSystem: fs, path: path, nodeID: node)) { error in
            guard case .corruptRecord(let p, let o, let before, _)? = error as? RaftWALError else {
                return XCTFail("expected corruptRecord, got \(error)")
            }
            XCTAssertEqual(p, segmentPath)
            XCTAssertEqual(o, Int64(offset))
            XCTAssertEqual(before, 4)
        }
        XCTAssertEqual(try fs.openFile(segmentPath, options: []).readAll(), bytes, "recovery must not cut a corrupt log")
    }

    func testFailedSyncIsFinal() throws {
        let fs = SimulatedFileSystem()
        let wal = try formatted(fs)
        try wal.save(hardState: nil, entries: entries(1...1, term: 1), snapshot: nil)
        fs.failSyncs(underPath: path)
        XCTAssertThrowsError(try wal.sync())
        XCTAssertThrowsError(try wal.save(hardState: nil, entries: entries(2...2, term: 1), snapshot: nil)) {
            guard case .failed? = $0 as? RaftWALError else { return XCTFail("\($0)") }
        }
    }

    func testReplayRefusesRecordsThatDoNotFormALog() {
        var replay = LogReplay()
        XCTAssertNotNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(1)))), "entry before snapshot")
        _ = replay.apply(.snapshot(index: LogIndex(5), term: Term(1)))
        XCTAssertNotNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(7)))), "gap")
        XCTAssertNil(replay.apply(.entry(Entry(term: Term(2), index: LogIndex(6)))))
        XCTAssertNotNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(7)))), "term goes down")
        XCTAssertNotNil(replay.apply(.truncate(from: LogIndex(5))), "truncation into the snapshot")
        XCTAssertNil(replay.apply(.truncate(from: LogIndex(6))))
        XCTAssertEqual(replay.lastIndex, LogIndex(5))
    }

    /// Found by the raftWAL fuzz target (Fuzz/crashes/raftWAL/crash-0aaf…): a truncation from the index
    /// after the last entry underflowed `lastIndex - from` and trapped the recovery.
    func testReplayOfRecordsAtTheEdgesOfTheIndexRangeNeverTraps() {
        var replay = LogReplay()
        _ = replay.apply(.snapshot(index: LogIndex(5), term: Term(1)))
        XCTAssertNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(6)))))
        XCTAssertNil(replay.apply(.truncate(from: LogIndex(7))), "truncating from after the last entry removes nothing")
        XCTAssertEqual(replay.lastIndex, LogIndex(6))
        XCTAssertNotNil(replay.apply(.truncate(from: LogIndex(8))))
        XCTAssertNotNil(replay.apply(.snapshot(index: LogIndex(UInt64.max), term: Term(1))), "no index follows it")
        XCTAssertNil(replay.apply(.snapshot(index: LogIndex(UInt64.max - 2), term: Term(1))))
        XCTAssertNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(UInt64.max - 1)))))
        XCTAssertNotNil(replay.apply(.entry(Entry(term: Term(1), index: LogIndex(UInt64.max)))),
                        "an entry after which no index can be counted is refused")
        XCTAssertNil(replay.apply(.truncate(from: LogIndex(UInt64.max))), "from after the last: nothing removed")
        XCTAssertEqual(replay.lastIndex, LogIndex(UInt64.max - 1))
        XCTAssertNil(replay.apply(.truncate(from: LogIndex(UInt64.max - 1))))
        XCTAssertEqual(replay.lastIndex, LogIndex(UInt64.max - 2))
    }
}

final class RaftWALSegmentTests: XCTestCase {
    func testSegmentsStartedAfterACheckpointBeforeItsSyncSurvive() throws {
        let fs = SimulatedFileSystem()
        let node = NodeID(1)
        let voters = [Voter(id: node, directory: DirectoryID(high: 0, low: 1))]
        try RaftWAL.format(
            fileSystem: fs, path: "/n", identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory),
            initialState: .bootstrap(voters: voters))
        let wal = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node, options: RaftWALOptions(segmentBytesMax: 120))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(10), term: Term(2), membership: Membership(voters: voters)))
        try wal.save(hardState: HardState(term: Term(2), vote: nil, commit: LogIndex(10)), entries: [], snapshot: snapshot)
        // Several saves before one sync: the log rolls past the checkpoint segment by size.
        for index in 11...16 as ClosedRange<UInt64> {
            try wal.save(hardState: nil, entries: [Entry(term: Term(2), index: LogIndex(index), data: Array(repeating: 7, count: 60))], snapshot: nil)
        }
        XCTAssertGreaterThan(wal.segmentCount, 3)
        try wal.sync()
        fs.crash()
        let reopened = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)
        XCTAssertEqual(reopened.recovered.snapshot, snapshot)
        XCTAssertEqual(reopened.recovered.entries.map(\.index.rawValue), Array(11...16))
        XCTAssertEqual(reopened.recovered.hardState.commit, LogIndex(10))
    }
}

final class RaftWALDamageTests: XCTestCase {
    let node = NodeID(1)
    let voters = [Voter(id: NodeID(1), directory: DirectoryID(high: 0, low: 1))]

    func makeLog(_ fs: SimulatedFileSystem, segmentBytesMax: Int = 64 << 20) throws -> RaftWAL {
        try RaftWAL.format(
            fileSystem: fs, path: "/n", identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory),
            initialState: .bootstrap(voters: voters))
        let wal = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node, options: RaftWALOptions(segmentBytesMax: segmentBytesMax))
        for index in 1...6 as ClosedRange<UInt64> {
            try wal.save(hardState: nil, entries: [Entry(term: Term(1), index: LogIndex(index), data: Array(repeating: 1, count: 40))], snapshot: nil)
            try wal.sync()
        }
        return wal
    }

    func testAZeroFilledTailIsCutLikeATornWrite() throws {
        let fs = SimulatedFileSystem()
        _ = try makeLog(fs)
        let file = try fs.openFile("/n/" + RaftWAL.segmentName(1), options: [])
        let size = try file.size()
        try file.write([UInt8](repeating: 0, count: 100), at: size)  // what a preallocated tail looks like
        try file.sync()
        let reopened = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)
        XCTAssertEqual(reopened.recovered.entries.count, 6)
        XCTAssertEqual(reopened.recoveryReport.tornTail?.offset, size)
        XCTAssertEqual(reopened.recoveryReport.tornTail?.bytesDropped, 100)
        XCTAssertEqual(try fs.openFile("/n/" + RaftWAL.segmentName(1), options: []).size(), size)
    }

    func testALastRecordWithABadChecksumIsCutAndReported() throws {
        let fs = SimulatedFileSystem()
        _ = try makeLog(fs)
        let file = try fs.openFile("/n/" + RaftWAL.segmentName(1), options: [])
        let size = try file.size()
        var last = try file.read(at: size - 1, count: 1)
        last[0] ^= 0xFF
        try file.write(last, at: size - 1)
        try file.sync()
        let reopened = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)
        XCTAssertEqual(reopened.recovered.entries.count, 5, "the damaged final entry is dropped as torn")
        XCTAssertNotNil(reopened.recoveryReport.tornTail)
    }

    func testDamageInASegmentThatIsNotTheLastStopsRecovery() throws {
        let fs = SimulatedFileSystem()
        let wal = try makeLog(fs, segmentBytesMax: 100)
        XCTAssertGreaterThan(wal.segmentCount, 2)
        let path = "/n/" + RaftWAL.segmentName(1)
        let file = try fs.openFile(path, options: [])
        let size = try file.size()
        try file.truncate(to: size - 3)  // a torn record where only the last segment may have one
        try file.sync()
        XCTAssertThrowsError(try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)) { error in
            guard case .corruptRecord(let p, _, _, _)? = error as? RaftWALError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
        }
    }
}
