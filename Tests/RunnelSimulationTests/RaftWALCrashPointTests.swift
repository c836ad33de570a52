import RunnelRaft
import RunnelRaftStorage
import RunnelStorage
import XCTest

/// Crashes a history with segment rolls, a compaction and an installed snapshot at every file operation,
/// with several tears each, and checks that recovery always succeeds with a state between the last durable
/// one and the last written one.
final class RaftWALCrashPointTests: XCTestCase {
    let path = "/n1"
    let node = NodeID(1)
    let voters = [Voter(id: NodeID(1), directory: DirectoryID(high: 0, low: 1))]

    func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
        range.map { Entry(term: Term(term), index: LogIndex($0), data: Array("e\($0)".utf8)) }
    }

    func snapshot(_ index: UInt64, term: UInt64) -> Snapshot {
        Snapshot(
            metadata: SnapshotMetadata(index: LogIndex(index), term: Term(term), membership: Membership(voters: voters)),
            data: Array("state@\(index)".utf8))
    }

    struct Durable {
        var lastIndex = LogIndex.zero
        var commit = LogIndex.zero
        var snapshotIndex = LogIndex.zero
    }

    /// Runs the history; returns what was durable when it stopped (by a crash or at the end).
    func runHistory(_ wal: RaftWAL) -> Durable {
        var durable = Durable()
        func step(_ body: () throws -> Void) -> Bool {
            do { try body() } catch { return false }
            durable = Durable(
                lastIndex: wal.hasUnsyncedWrites ? durable.lastIndex : wal.lastIndex,
                commit: wal.hasUnsyncedWrites ? durable.commit : wal.durableHardState.commit,
                snapshotIndex: wal.hasUnsyncedWrites ? durable.snapshotIndex : wal.snapshotMetadata.index)
            return true
        }
        let script: [() throws -> Void] = [
            { try wal.save(hardState: HardState(term: Term(1), vote: self.node, commit: LogIndex(4)), entries: self.entries(1...10, term: 1), snapshot: nil) },
            { try wal.sync() },
            { try wal.save(hardState: HardState(term: Term(1), vote: self.node, commit: LogIndex(10)), entries: self.entries(11...15, term: 1), snapshot: nil) },
            { try wal.compact(to: self.snapshot(8, term: 1)) },
            { try wal.save(hardState: HardState(term: Term(2), vote: nil, commit: LogIndex(15)), entries: self.entries(16...18, term: 2), snapshot: nil) },
            { try wal.sync() },
            { try wal.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(30)), entries: self.entries(31...32, term: 3), snapshot: self.snapshot(30, term: 3)) },
            { try wal.sync() },
            { try wal.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(32)), entries: self.entries(33...33, term: 3), snapshot: nil) },
            { try wal.sync() },
        ]
        for action in script where !step(action) { break }
        return durable
    }

    func testCrashAtEveryFileOperationOfCompactionAndInstallRecoversAConsistentState() throws {
        // Count the operations of a run without a crash.
        let plain = SimulatedFileSystem()
        try RaftWAL.format(fileSystem: plain, path: path, identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory), initialState: .bootstrap(voters: voters))
        let counting = CrashPointFileSystem(base: plain, crashAt: Int.max, tearSeed: 0)
        _ = runHistory(try RaftWAL.open(fileSystem: counting, path: path, nodeID: node, options: RaftWALOptions(segmentBytesMax: 200)))
        let total = counting.operations
        XCTAssertGreaterThan(total, 20)

        let model = Dictionary(uniqueKeysWithValues: (entries(1...15, term: 1) + entries(16...18, term: 2) + entries(31...33, term: 3)).map { ($0.index, $0) })
        for crashAt in 1...total {
            for tearSeed in 0..<4 as Range<UInt64> {
                let fs = SimulatedFileSystem()
                try RaftWAL.format(fileSystem: fs, path: path, identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory), initialState: .bootstrap(voters: voters))
                let crashing = CrashPointFileSystem(base: fs, crashAt: crashAt, tearSeed: tearSeed &* 7919 &+ UInt64(crashAt))
                let durable = runHistory(try RaftWAL.open(fileSystem: crashing, path: path, nodeID: node, options: RaftWALOptions(segmentBytesMax: 200)))
                let context = "crash at operation \(crashAt) of \(total), tear \(tearSeed)"
                let recovered: PersistentState
                do {
                    recovered = try RaftWAL.open(fileSystem: fs, path: path, nodeID: node).recovered
                } catch {
                    XCTFail("\(context): recovery failed: \(error)")
                    continue
                }
                let snapshotIndex = recovered.snapshot.metadata.index
                XCTAssertTrue([0, 8, 30].contains(snapshotIndex.rawValue), context)
                if snapshotIndex.rawValue > 0 {
                    XCTAssertEqual(recovered.snapshot, snapshot(snapshotIndex.rawValue, term: snapshotIndex.rawValue == 8 ? 1 : 3), context)
                }
                for entry in recovered.entries { XCTAssertEqual(entry, model[entry.index], context) }
                let lastIndex = recovered.entries.last?.index ?? snapshotIndex
                XCTAssertGreaterThanOrEqual(snapshotIndex, durable.snapshotIndex, context)
                XCTAssertGreaterThanOrEqual(lastIndex, durable.lastIndex, context)
                XCTAssertGreaterThanOrEqual(recovered.hardState.commit, durable.commit, context)
                XCTAssertLessThanOrEqual(recovered.hardState.commit, lastIndex, context)
            }
        }
    }
}
