import NIOCore
@testable import RunnelLog
import RunnelRaft
@testable import RunnelRaftStorage
import RunnelRecords
import RunnelStorage

/// Recovery from files a crash, a bad disk or an operator left behind: bytes in, recovery must answer
/// with a log or an error, never trap, and a log it opens must work.
enum RecoveryTargets {
    static let node = NodeID(1)
    static let voters = [Voter(id: NodeID(1), directory: DirectoryID(high: 0, low: 1))]

    /// Raft WAL segment files. Input: a flags byte (bit 0: fix the frames' CRCs, bit 1: split the rest
    /// into two segments at the u16 that follows), then the segment bytes. The directory is formatted
    /// first, so the identity and the bootstrap snapshot exist.
    static func raftWAL(_ bytes: [UInt8]) {
        var reader = InputReader(bytes)
        let flags = reader.byte()
        let split = reader.uint16()
        var segment = reader.rest
        if flags & 1 == 1 { Checksums.fixWALFrames(&segment) }
        let fileSystem = SimulatedFileSystem()
        do {
            try RaftWAL.format(fileSystem: fileSystem, path: "/n", identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory),
                               initialState: .bootstrap(voters: voters))
            var files = [segment]
            if flags & 2 == 2 { files = [Array(segment.prefix(split)), Array(segment.dropFirst(split))] }
            for (index, bytes) in files.enumerated() {
                try fileSystem.writeAtomically(bytes, to: "/n/" + RaftWAL.segmentName(UInt64(index + 1)))
            }
        } catch {
            fatalError("the simulated disk refused the setup: \(error)")
        }
        _ = frames(segment)  // the frame decoder alone, over the frames the lengths lead to
        guard let wal = try? RaftWAL.open(fileSystem: fileSystem, path: "/n", nodeID: node) else { return }
        // An opened log takes new entries and recovers them.
        let next = wal.lastIndex.next
        let term = max(wal.hardState.term, wal.entries.last?.term ?? Term(0), wal.snapshotMetadata.term)
        do {
            try wal.save(hardState: nil, entries: [Entry(term: term, index: next, data: [1, 2, 3])], snapshot: nil)
            try wal.sync()
        } catch {
            return  // refused (for instance entries that do not continue what was recovered): not a trap
        }
        guard let reopened = try? RaftWAL.open(fileSystem: fileSystem, path: "/n", nodeID: node) else {
            fatalError("a WAL that opened and took an entry does not open again")
        }
        require(reopened.lastIndex == next, "the entry saved after recovery is lost on reopen")
    }

    private static func frames(_ bytes: [UInt8]) -> [(Int, WALFrame.Decoded)] {
        var found: [(Int, WALFrame.Decoded)] = []
        var offset = 0
        while offset < bytes.count, found.count < 10_000 {
            let decoded = WALFrame.decode(bytes, at: offset)
            found.append((offset, decoded))
            guard case .record(_, let end) = decoded, end > offset else { break }
            offset = end
        }
        return found
    }

    /// A partition log directory. Input: a flags byte (bit 0: fix the batches' CRCs, bit 1: write a
    /// recovery-point checkpoint with the i64 that follows, bit 2: a clean-shutdown marker naming the
    /// last segment's size, bit 3: split the rest into two segments at the u16 that follows, the second
    /// based at the u16 after it), then the segment bytes. An opened log is read end to end, appended to
    /// and truncated.
    static func logRecovery(_ bytes: [UInt8]) {
        var reader = InputReader(bytes)
        let flags = reader.byte()
        let recoveryPoint = reader.int64()
        let split = reader.uint16()
        let secondBase = Int64(reader.uint16())
        var data = reader.rest
        if flags & 1 == 1 { Checksums.fixRecordBatches(&data) }
        let fileSystem = SimulatedFileSystem()
        let directory = "/data/t-0-000102030405060708090a0b0c0d0e0f"
        func segmentPath(_ base: Int64) -> String {
            let digits = String(base)
            return directory + "/" + String(repeating: "0", count: 20 - digits.count) + digits + ".log"
        }
        var segments = [(Int64(0), data)]
        if flags & 8 == 8 { segments = [(0, Array(data.prefix(split))), (secondBase, Array(data.dropFirst(split)))] }
        do {
            try fileSystem.createDirectory("/data")
            try fileSystem.createDirectory(directory)
            for (base, bytes) in segments { try fileSystem.writeAtomically(bytes, to: segmentPath(base)) }
            if flags & 2 == 2 {
                try fileSystem.writeAtomically(CheckpointFile.encode(offset: recoveryPoint), to: directory + "/recovery-point-checkpoint")
            }
            if flags & 4 == 4 {
                try fileSystem.writeAtomically(CheckpointFile.encode(offset: Int64(segments.last!.1.count)), to: directory + "/clean-shutdown")
            }
        } catch {
            fatalError("the simulated disk refused the setup: \(error)")
        }
        let scheduler = InlineSyncScheduler()
        let config = LogConfig(segmentBytesMax: 1 << 20, retentionMs: nil, indexIntervalBytes: 64)
        guard let log = try? PartitionLog.open(directory: directory, fileSystem: fileSystem, syncScheduler: scheduler, config: config, nowMs: 0)
        else { return }
        var offset = log.logStartOffset
        var reads = 0
        while offset < log.logEndOffset, reads < 10_000 {
            reads += 1
            guard let read = try? log.read(from: offset, maxBytes: 1 << 16, upTo: log.logEndOffset) else {
                fatalError("a recovered log cannot be read at \(offset) (log \(log.offsets))")
            }
            var iterator = RecordBatchIterator(read.records)
            var last: RecordBatchHeader?
            while let entry = try? iterator.next() { last = entry.header }
            guard let last, last.nextOffset > offset else { break }
            offset = last.nextOffset
        }
        _ = try? log.offsetForTimestamp(0)
        _ = try? log.offsetForMaxTimestamp()
        var builder = RecordBatchBuilder()
        builder.append(key: [1], value: [2], timestampMs: 1)
        let end = log.logEndOffset
        if (try? log.appendAsLeader(try! builder.build(), leaderEpoch: max(log.latestEpoch ?? 0, 0), nowMs: 0)) != nil {
            require(log.logEndOffset == end + 1, "an append to a recovered log did not advance its end")
        }
        if log.logEndOffset > log.logStartOffset { _ = try? log.truncate(to: (log.logStartOffset + log.logEndOffset) / 2, nowMs: 0) }
        log.close()
        // What recovery and the writes after it left opens again.
        _ = try? PartitionLog.open(directory: directory, fileSystem: fileSystem, syncScheduler: scheduler, config: config, nowMs: 0)
    }
}
