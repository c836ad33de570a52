import RunnelRaft
@testable import RunnelRaftStorage
import RunnelStorage
import XCTest

/// Issue 12, item 14 for the Raft WAL: damage in the middle of the last segment (a zeroed header, a bad
/// length field) is told apart from a torn tail by probing past it; synced records are never dropped.
final class RaftWALMiddleDamageTests: XCTestCase {
    let node = NodeID(1)
    let voters = [Voter(id: NodeID(1), directory: DirectoryID(high: 0, low: 1))]
    let segmentPath = "/n/" + RaftWAL.segmentName(1)

    /// Six entries, each synced, in one segment; returns the byte offset of each record's frame.
    func syncedLog(_ fs: SimulatedFileSystem) throws -> [Int] {
        try RaftWAL.format(
            fileSystem: fs, path: "/n", identity: DirectoryIdentity(nodeID: node, directoryID: voters[0].directory),
            initialState: .bootstrap(voters: voters))
        let wal = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)
        for index in 1...6 as ClosedRange<UInt64> {
            try wal.save(hardState: nil, entries: [Entry(term: Term(1), index: LogIndex(index), data: Array(repeating: 1, count: 40))], snapshot: nil)
            try wal.sync()
        }
        let bytes = try fs.openFile(segmentPath, options: []).readAll()
        var starts: [Int] = []
        var offset = 0
        while case .record(_, let end) = WALFrame.decode(bytes, at: offset) {
            starts.append(offset)
            offset = end
        }
        XCTAssertEqual(offset, bytes.count)
        return starts
    }

    /// Overwrites bytes of the segment durably; returns the whole file after.
    func damage(_ fs: SimulatedFileSystem, at offset: Int, with bytes: [UInt8]) throws -> [UInt8] {
        let file = try fs.openFile(segmentPath, options: [])
        defer { file.close() }
        try file.write(bytes, at: Int64(offset))
        try file.sync()
        return try file.readAll()
    }

    func assertRefused(_ fs: SimulatedFileSystem, at offset: Int, unchanged bytes: [UInt8], _ message: String,
                       line: UInt = #line) throws {
        XCTAssertThrowsError(try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node), message, line: line) { error in
            guard case .corruptRecord(let path, let at, _, _)? = error as? RaftWALError else {
                return XCTFail("\(message): expected corruptRecord, got \(error)", line: line)
            }
            XCTAssertEqual(path, self.segmentPath, message, line: line)
            XCTAssertEqual(at, Int64(offset), message, line: line)
        }
        XCTAssertEqual(try fs.openFile(segmentPath, options: []).readAll(), bytes, "\(message): recovery must not cut synced records", line: line)
    }

    func testAZeroedHeaderInTheMiddleOfTheLastSegmentStopsRecovery() throws {
        let fs = SimulatedFileSystem()
        let starts = try syncedLog(fs)
        let third = starts[starts.count - 4]  // entry 3 of 6
        let bytes = try damage(fs, at: third, with: [UInt8](repeating: 0, count: WALFrame.headerBytes))
        try assertRefused(fs, at: third, unchanged: bytes, "zeroed header")
    }

    func testABadLengthInTheMiddleOfTheLastSegmentStopsRecovery() throws {
        let lengths: [(String, UInt32)] = [
            ("a length past the allocation bound", UInt32.max),
            ("a length past the end of the file", 1 << 20),
            ("a length a few bytes too long", 0),  // replaced below by the real length + 3
            ("a length a few bytes too short", 1),  // replaced below by the real length - 3
        ]
        for (name, length) in lengths {
            let fs = SimulatedFileSystem()
            let starts = try syncedLog(fs)
            let third = starts[starts.count - 4]
            let original = try fs.openFile(segmentPath, options: []).read(at: Int64(third), count: 4)
            let real = original.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let bad = length == 0 ? real + 3 : length == 1 ? real - 3 : length
            let bytes = try damage(fs, at: third, with: withUnsafeBytes(of: bad.bigEndian) { Array($0) })
            try assertRefused(fs, at: third, unchanged: bytes, name)
        }
    }

    func testGarbageAfterTheLastRecordIsStillCutAsATornTail() throws {
        let fs = SimulatedFileSystem()
        _ = try syncedLog(fs)
        let file = try fs.openFile(segmentPath, options: [])
        let size = try file.size()
        // A frame header promising more than was written, then a few bytes of its body.
        try file.write([0, 0, 0, 60, 1, 2, 3, 4, 1, 9, 9], at: size)
        try file.sync()
        file.close()
        let reopened = try RaftWAL.open(fileSystem: fs, path: "/n", nodeID: node)
        XCTAssertEqual(reopened.recovered.entries.count, 6)
        XCTAssertEqual(reopened.recoveryReport.tornTail?.offset, size)
    }
}
