import RunnelRaft
import XCTest

final class RaftCodecTests: XCTestCase {
    static let snapshot = Snapshot(
        metadata: SnapshotMetadata(
            index: LogIndex(41), term: Term(3), membership: Membership(voters: [voter(1), voter(2, generation: 9)], learners: [voter(4)])),
        data: [1, 2, 3])

    static let everyKind: [MessageKind] = [
        .preVote(lastLogIndex: LogIndex(7), lastLogTerm: Term(2)),
        .preVoteResponse(granted: true),
        .vote(lastLogIndex: LogIndex(7), lastLogTerm: Term(2), leadershipTransfer: true),
        .voteResponse(granted: false),
        .append(
            prevLogIndex: LogIndex(5), prevLogTerm: Term(2),
            entries: [
                Entry(term: Term(3), index: LogIndex(6), kind: .noop),
                Entry(term: Term(3), index: LogIndex(7), kind: .normal, data: Array("x".utf8)),
                Entry(term: Term(3), index: LogIndex(8), kind: .configChange, data: Membership(voters: [voter(1)]).encoded()),
            ], commit: LogIndex(5)),
        .append(prevLogIndex: .zero, prevLogTerm: .zero, entries: [], commit: .zero),
        .appendResponse(.accepted(matchIndex: LogIndex(8))),
        .appendResponse(.rejected(rejectedIndex: LogIndex(9), hintIndex: LogIndex(4), hintTerm: Term(1))),
        .heartbeat(commit: LogIndex(3)),
        .heartbeatResponse,
        .installSnapshot(snapshot),
        .timeoutNow,
    ]

    func testEveryMessageKindRoundTripsAndEveryTruncationIsRejected() {
        for kind in RaftCodecTests.everyKind {
            let message = Message(
                from: NodeID(3), fromDirectory: DirectoryID(high: 5, low: 6), to: NodeID(UInt64.max), term: Term(3), kind: kind)
            let bytes = message.encoded()
            XCTAssertEqual(Message(decoding: bytes), message)
            for length in 0..<bytes.count {
                XCTAssertNil(Message(decoding: Array(bytes.prefix(length))), "\(kind) truncated to \(length)")
            }
            XCTAssertNil(Message(decoding: bytes + [0]), "\(kind) with a trailing byte")
        }
    }

    func testLogValuesRoundTrip() {
        let entry = Entry(term: Term(9), index: LogIndex(1 << 40), kind: .normal, data: [0, 255])
        XCTAssertEqual(Entry(decoding: entry.encoded()), entry)
        for hardState in [HardState(), HardState(term: Term(4), vote: NodeID(0), commit: LogIndex(12))] {
            XCTAssertEqual(HardState(decoding: hardState.encoded()), hardState)
        }
        XCTAssertEqual(Snapshot(decoding: RaftCodecTests.snapshot.encoded()), RaftCodecTests.snapshot)
        XCTAssertNil(Entry(decoding: [2] + Array(entry.encoded().dropFirst())), "unknown version")
        var badKind = entry.encoded()
        badKind[17] = 9
        XCTAssertNil(Entry(decoding: badKind), "unknown entry kind")
    }

    func testCorruptInputNeverTraps() {
        var random = TestRandom(seed: 99)
        let valid = RaftCodecTests.everyKind.map {
            Message(from: NodeID(1), fromDirectory: voter(1).directory, to: NodeID(2), term: Term(1), kind: $0).encoded()
        }
        var decoded = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = valid[random.below(valid.count)]
                for _ in 0...random.below(3) { bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next()) }
            }
            if let message = Message(decoding: bytes) {
                decoded += 1
                XCTAssertEqual(Message(decoding: message.encoded()), message)
            }
            _ = Entry(decoding: bytes)
            _ = Snapshot(decoding: bytes)
            _ = HardState(decoding: bytes)
        }
        XCTAssertGreaterThan(decoded, 0, "mutations of valid messages that stay valid should decode")
    }

    func testMessagesOfARandomClusterRoundTrip() {
        var cluster = RandomCluster(seed: 5, nodeCount: 5)
        var checked = 0
        for _ in 0..<1500 {
            cluster.randomEvent()
            for message in cluster.network.suffix(3) {
                XCTAssertEqual(Message(decoding: message.encoded()), message)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }
}
