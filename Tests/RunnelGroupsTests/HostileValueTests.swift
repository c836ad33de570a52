import XCTest

@testable import RunnelGroups

/// Values from the wire or from `__consumer_offsets` at the edges of their types (issue 12): the core
/// answers with an error or saturates, never traps, and never emits a record it cannot encode.
final class HostileValueTests: XCTestCase {
    /// Every record the core asked to persist must encode (the codec's int16 string lengths).
    func assertEveryRecordEncodes(_ h: Harness, file: StaticString = #filePath, line: UInt = #line) {
        for record in h.records {
            let (key, value) = record.encoded()
            XCTAssertEqual(GroupRecord.decode(key: key, value: value), record, file: file, line: line)
        }
    }

    // MARK: Item 2: arithmetic on retention and generation.

    func testCommitRetentionNearInt64MaxSaturatesTheExpiry() {
        let h = Harness()
        let partition = TopicPartition("t", 0)
        for retentionMs in [Int64.max, Int64.max - 1, Int64.max - h.nowMs + 1] {
            let (answers, effects) = h.core.commitOffsets(
                groupID: "g", generationID: -1, memberID: "", offsets: [OffsetCommitEntry(partition, offset: 7)],
                retentionMs: retentionMs, nowMs: h.nowMs)
            h.absorb(effects)
            XCTAssertEqual(answers.map(\.1), [.none], "Kafka accepts large retention values")
            let committed = h.core.fetchOffsets(groupID: "g", partitions: [partition]).offsets[partition] ?? nil
            XCTAssertEqual(committed?.expireTimestampMs, Int64.max, "retention \(retentionMs) saturates")
        }
        assertEveryRecordEncodes(h)
        // An expiry at the end of time never comes.
        h.advance(h.core.config.offsetsRetentionMs * 2)
        XCTAssertNotNil(h.core.fetchOffsets(groupID: "g", partitions: [partition]).offsets[partition] ?? nil)
    }

    /// Kafka's classic group increments a Java int: after Int32.max comes Int32.min.
    func testJoinAfterALoadedGenerationOfInt32MaxWrapsAsKafkasDoes() {
        let h = Harness()
        h.core.load(
            [
                .groupMetadata(
                    groupID: "g",
                    GroupMetadataValue(
                        protocolType: "consumer", generationID: Int32.max, protocolName: nil, leaderID: nil,
                        stateTimestampMs: h.nowMs, members: []))
            ], nowMs: h.nowMs)
        XCTAssertEqual(h.core.generation(of: "g"), Int32.max)
        let joined = h.join()
        for _ in 0..<20 where h.answer(joined) == nil { h.advance(1_000) }
        let result = h.answer(joined)
        XCTAssertEqual(result?.error, GroupError.none)
        XCTAssertEqual(result?.generationID, Int32.min)
        let member = result?.memberID ?? ""
        let synced = h.answer(h.sync(generation: Int32.min, memberID: member, assignments: [(member, [9])]))
        XCTAssertEqual(synced?.error, GroupError.none)
        XCTAssertEqual(synced?.assignment, [9])
        XCTAssertEqual(h.heartbeat(generation: Int32.min, memberID: member), GroupError.none)
        XCTAssertEqual(
            h.commit(generation: Int32.min, memberID: member, [OffsetCommitEntry(TopicPartition("t", 0), offset: 1)]),
            [GroupError.none], "the wrapped generation is the group's generation")
        assertEveryRecordEncodes(h)
    }

    /// Timestamps in loaded records are whatever the disk holds: expiry compares them without overflowing.
    func testLoadedTimestampsAtTheEdgesOfInt64DoNotTrapOffsetExpiry() {
        let h = Harness()
        h.core.load(
            [
                .offsetCommit(groupID: "simple", TopicPartition("t", 0), CommittedOffset(offset: 1, commitTimestampMs: Int64.min)),
                .offsetCommit(groupID: "future", TopicPartition("t", 0), CommittedOffset(offset: 2, commitTimestampMs: Int64.max)),
                .groupMetadata(
                    groupID: "managed",
                    GroupMetadataValue(
                        protocolType: "consumer", generationID: 3, protocolName: nil, leaderID: nil,
                        stateTimestampMs: Int64.min, members: [])),
                .offsetCommit(groupID: "managed", TopicPartition("t", 0), CommittedOffset(offset: 3, commitTimestampMs: h.nowMs)),
            ], nowMs: h.nowMs)
        let expirations = h.advance(1)
        let expiredGroups = Set(expirations.filter { $0.kind == .offsetsExpired(count: 1) }.map(\.groupID))
        XCTAssertEqual(expiredGroups, ["simple", "managed"], "a time before any other is older than the retention")
        XCTAssertNotNil(h.core.fetchOffsets(groupID: "future", partitions: [TopicPartition("t", 0)]).offsets.values.first ?? nil)
        assertEveryRecordEncodes(h)
    }

    // MARK: Item 5: strings the records' int16 lengths cannot hold.

    static let tooLong = String(repeating: "x", count: Int(Int16.max) + 1)

    func testJoinWithAGroupIDTooLongForTheRecordsIsInvalidGroupID() {
        let h = Harness()
        let result = h.answer(h.join(Self.tooLong))
        XCTAssertEqual(result?.error, .invalidGroupID)
        XCTAssertEqual(h.core.groupCount, 0, "a refused join leaves no group behind")
    }

    func testJoinWithFieldsTooLongForTheRecordsIsInvalidRequest() {
        let h = Harness()
        let cases: [(String, () -> JoinOutcome)] = [
            ("protocol type of 40 000 bytes", { h.join("g1", protocolType: String(repeating: "p", count: 40_000)) }),
            ("protocol name", { h.join("g2", protocols: [GroupProtocol(name: Self.tooLong, metadata: [])]) }),
            ("group instance id", { h.join("g3", instance: Self.tooLong) }),
            // The member id is the client id and a suffix: a client id that fits still makes one that does not.
            ("client id of 32 767 bytes", { h.join("g4", clientID: String(repeating: "c", count: Int(Int16.max))) }),
            ("client id of 32 767 bytes, two-step join", {
                h.join("g5", clientID: String(repeating: "c", count: Int(Int16.max)), requireKnownMemberID: true)
            }),
        ]
        for (name, join) in cases {
            let result = h.answer(join())
            XCTAssertEqual(result?.error, .invalidRequest, name)
        }
        h.advance(5_000)
        XCTAssertEqual(h.core.groupIDs, [], "a refused join leaves no group behind")
        assertEveryRecordEncodes(h)
    }

    func testAClientIDThatLeavesRoomForTheMemberIDSuffixJoins() {
        let h = Harness()
        let clientID = String(repeating: "c", count: Int(Int16.max) - 100)
        let joined = h.join(clientID: clientID)
        for _ in 0..<20 where h.answer(joined) == nil { h.advance(1_000) }
        let result = h.answer(joined)
        XCTAssertEqual(result?.error, GroupError.none)
        let member = result?.memberID ?? ""
        XCTAssertEqual(h.answer(h.sync(generation: 1, memberID: member, assignments: [(member, [1])]))?.error, GroupError.none)
        XCTAssertFalse(h.records.isEmpty)
        assertEveryRecordEncodes(h)
    }

    func testCommitWithAGroupIDTooLongForTheRecordsIsInvalidGroupID() {
        let h = Harness()
        let answers = h.commit(Self.tooLong, generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("t", 0), offset: 1)])
        XCTAssertEqual(answers, [.invalidGroupID])
        XCTAssertEqual(h.core.groupCount, 0)
        XCTAssertTrue(h.records.isEmpty)
    }

    func testCommitToATopicNameTooLongForTheRecordsIsInvalidRequestForThatTopicOnly() {
        let h = Harness()
        let answers = h.commit(
            generation: -1, memberID: "",
            [OffsetCommitEntry(TopicPartition(Self.tooLong, 0), offset: 1), OffsetCommitEntry(TopicPartition("t", 0), offset: 2)])
        XCTAssertEqual(answers, [.invalidRequest, .none])
        XCTAssertEqual(h.records.count, 1)
        assertEveryRecordEncodes(h)
    }

    func testCommitMetadataBeyondTheRecordsIsTooLargeWhateverTheConfiguredLimit() {
        var config = GroupConfig()
        config.offsetMetadataBytesMax = 1 << 20
        let h = Harness(config: config)
        let answers = h.commit(
            generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("t", 0), offset: 1, metadata: Self.tooLong)])
        XCTAssertEqual(answers, [.offsetMetadataTooLarge])
        assertEveryRecordEncodes(h)
    }
}
