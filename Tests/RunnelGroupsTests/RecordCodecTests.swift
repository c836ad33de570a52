import XCTest

@testable import RunnelGroups

final class RecordCodecTests: XCTestCase {
    /// A history with every kind of record: generations, a static replacement, commits, deletes, an empty group.
    func scenario() -> Harness {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(TopicPartition("t", 0), offset: 10, leaderEpoch: 4, metadata: "meta")])
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("u", 1), offset: 5)])
        _ = h.commit("deleted", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("u", 0), offset: 5)])
        let (_, deletion) = h.core.delete(groupIDs: ["deleted"], nowMs: h.nowMs)
        h.absorb(deletion)
        _ = h.formStableGroup("static", count: 2, instances: ["a", "b"])
        _ = h.leave([LeavingMember(memberID: members[1])])
        // Finish the rebalance: only completed generations are persisted (a rebalance in flight is not).
        let outcome = h.join(memberID: members[0])
        let next = h.answer(outcome)!
        h.sync(generation: next.generationID, memberID: members[0], assignments: [(members[0], [0, 1])])
        return h
    }

    func testEveryRecordSurvivesItsByteForm() {
        let h = scenario()
        XCTAssertFalse(h.records.isEmpty)
        for record in h.records {
            let (key, value) = record.encoded()
            XCTAssertEqual(GroupRecord.decode(key: key, value: value), record)
            XCTAssertEqual(value == nil, record.isTombstone)
        }
    }

    func testRebuildingFromDecodedBytesGivesTheSameState() {
        let h = scenario()
        let decoded = h.records.map { record -> GroupRecord in
            let (key, value) = record.encoded()
            return GroupRecord.decode(key: key, value: value)!
        }
        var rebuilt = GroupCoordinatorCore()
        rebuilt.load(decoded, nowMs: h.nowMs)
        let ids = ["g", "simple", "deleted", "static"]
        XCTAssertEqual(rebuilt.describe(groupIDs: ids), h.core.describe(groupIDs: ids))
        for id in ids {
            XCTAssertEqual(rebuilt.fetchOffsets(groupID: id, partitions: nil), h.core.fetchOffsets(groupID: id, partitions: nil))
        }
    }

    func testTruncatedBytesAreRejectedNotTrapped() {
        let h = scenario()
        for record in h.records {
            let (key, value) = record.encoded()
            for cut in 0..<key.count { XCTAssertNil(GroupRecord.decode(key: Array(key[..<cut]), value: value)) }
            if let value {
                for cut in 0..<value.count { XCTAssertNil(GroupRecord.decode(key: key, value: Array(value[..<cut]))) }
            }
        }
    }

    func testOffsetKeyLayoutIsKafkas() {
        let (key, value) = GroupRecord.offsetCommit(
            groupID: "g", TopicPartition("t", 2), CommittedOffset(offset: 7, leaderEpoch: -1, metadata: "", commitTimestampMs: 9)
        ).encoded()
        XCTAssertEqual(key, [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 2])
        XCTAssertEqual(value, [0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])
    }

    func testVersionOneOffsetValueIsRead() {
        // version 1: offset, metadata, commit timestamp, expire timestamp
        let value: [UInt8] = [0, 1] + [0, 0, 0, 0, 0, 0, 0, 42] + [0, 1, 0x6D] + [0, 0, 0, 0, 0, 0, 0, 5] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let key: [UInt8] = [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 0]
        XCTAssertEqual(
            GroupRecord.decode(key: key, value: value),
            .offsetCommit(groupID: "g", TopicPartition("t", 0), CommittedOffset(offset: 42, leaderEpoch: -1, metadata: "m", commitTimestampMs: 5)))
    }
}
