import XCTest

@testable import RunnelGroups

final class OffsetTests: XCTestCase {
    let p0 = TopicPartition("orders", 0)
    let p1 = TopicPartition("orders", 1)

    func testCommittedOffsetsAreFetchedBack() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        let errors = h.commit(
            generation: generation, memberID: members[0],
            [OffsetCommitEntry(p0, offset: 42, leaderEpoch: 3, metadata: "m"), OffsetCommitEntry(p1, offset: 7)])
        XCTAssertEqual(errors, [GroupError.none, GroupError.none])
        let fetched = h.core.fetchOffsets(groupID: "g", partitions: [p0, p1, TopicPartition("other", 0)])
        XCTAssertEqual(fetched.offsets[p0]??.offset, 42)
        XCTAssertEqual(fetched.offsets[p0]??.leaderEpoch, 3)
        XCTAssertEqual(fetched.offsets[p0]??.metadata, "m")
        XCTAssertEqual(fetched.offsets[p1]??.offset, 7)
        XCTAssertEqual(fetched.offsets[TopicPartition("other", 0)].map { $0 == nil }, true)
        XCTAssertEqual(h.core.fetchOffsets(groupID: "g", partitions: nil).offsets.count, 2)
        XCTAssertEqual(h.records.filter { if case .offsetCommit = $0 { true } else { false } }.count, 2)
    }

    func testFetchFromAnUnknownGroupFindsNothing() {
        let core = GroupCoordinatorCore()
        let fetched = core.fetchOffsets(groupID: "nobody", partitions: [p0])
        XCTAssertEqual(fetched.error, GroupError.none)
        XCTAssertEqual(fetched.offsets.count, 1)
        XCTAssertEqual(fetched.offsets[p0].map { $0 == nil }, true)
    }

    func testSimpleCommitCreatesAGroupWithoutMembers() {
        let h = Harness()
        XCTAssertEqual(h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 5)]), [GroupError.none])
        XCTAssertEqual(h.core.state(of: "simple"), .empty)
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: [p0]).offsets[p0]??.offset, 5)
    }

    func testAnExplicitLowerCommitIsStored() {
        let h = Harness()
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 100)])
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 10)])
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: [p0]).offsets[p0]??.offset, 10)
    }

    func testCommitWithAnOldGenerationIsIllegal() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        XCTAssertEqual(h.commit(generation: generation - 1, memberID: members[0], [OffsetCommitEntry(p0, offset: 1)]), [.illegalGeneration])
    }

    func testCommitToAVanishedGroupWithAGenerationIsIllegal() {
        let h = Harness()
        XCTAssertEqual(h.commit("gone", generation: 3, memberID: "m", [OffsetCommitEntry(p0, offset: 1)]), [.illegalGeneration])
        XCTAssertNil(h.core.state(of: "gone"))
    }

    func testCommitFromAnUnknownMemberIsRefused() {
        let h = Harness()
        let (_, generation, _) = h.formStableGroup(count: 1)
        XCTAssertEqual(h.commit(generation: generation, memberID: "ghost", [OffsetCommitEntry(p0, offset: 1)]), [.unknownMemberID])
        XCTAssertEqual(h.commit(generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 1)]), [.unknownMemberID],
            "a simple commit to a group with members")
    }

    func testCommitBeforeTheAssignmentIsRebalanceInProgress() {
        let h = Harness()
        let a = h.join()
        h.advance(3_000)
        let result = h.answer(a)!
        XCTAssertEqual(h.core.state(of: "g"), .completingRebalance)
        XCTAssertEqual(h.commit(generation: result.generationID, memberID: result.memberID, [OffsetCommitEntry(p0, offset: 1)]), [.rebalanceInProgress])
    }

    func testCommitWhilePreparingARebalanceIsAllowed() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        _ = h.join(clientID: "newcomer")
        XCTAssertEqual(h.core.state(of: "g"), .preparingRebalance)
        XCTAssertEqual(h.commit(generation: generation, memberID: members[1], [OffsetCommitEntry(p0, offset: 1)]), [GroupError.none])
    }

    func testOversizedOffsetMetadataIsRefusedPerPartition() {
        var config = GroupConfig()
        config.offsetMetadataBytesMax = 4
        let h = Harness(config: config)
        let errors = h.commit(
            "simple", generation: -1, memberID: "",
            [OffsetCommitEntry(p0, offset: 1, metadata: "12345"), OffsetCommitEntry(p1, offset: 2, metadata: "1234")])
        XCTAssertEqual(errors, [.offsetMetadataTooLarge, GroupError.none])
    }

    func testOffsetsPerGroupAreBounded() {
        var config = GroupConfig()
        config.offsetsPerGroupMax = 1
        let h = Harness(config: config)
        let errors = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 1), OffsetCommitEntry(p1, offset: 2)])
        XCTAssertEqual(errors, [GroupError.none, .unknownServerError])
        XCTAssertEqual(h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 3)]), [GroupError.none])
    }

    func testOffsetsOfASimpleGroupExpireAfterRetentionAndTheGroupGoes() {
        var config = GroupConfig()
        config.offsetsRetentionMs = 60_000
        config.offsetsRetentionCheckIntervalMs = 1_000
        let h = Harness(config: config)
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 1)])
        h.advance(59_000)
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: [p0]).offsets[p0]??.offset, 1)
        h.records = []
        let expired = h.advance(1_000)
        XCTAssertEqual(expired.map(\.kind), [.offsetsExpired(count: 1), .groupRemoved])
        XCTAssertNil(h.core.state(of: "simple"))
        XCTAssertEqual(h.records, [.offsetTombstone(groupID: "simple", p0), .groupTombstone(groupID: "simple")])
    }

    func testACommitWithItsOwnRetentionExpiresThenAndSurvivesItsByteForm() {
        var config = GroupConfig()
        config.offsetsRetentionCheckIntervalMs = 1_000
        let h = Harness(config: config)
        let (_, effects) = h.core.commitOffsets(
            groupID: "simple", generationID: -1, memberID: "", offsets: [OffsetCommitEntry(p0, offset: 1)], retentionMs: 5_000,
            nowMs: h.nowMs)
        h.absorb(effects)
        let (key, value) = h.records[0].encoded()
        XCTAssertEqual(GroupRecord.decode(key: key, value: value), h.records[0])
        h.advance(4_000)
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: [p0]).offsets[p0]??.offset, 1)
        h.advance(1_000)
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: [p0]).offsets[p0].map { $0 == nil }, true)
    }

    func testOffsetsOfAnActiveGroupDoNotExpire() {
        var config = GroupConfig()
        config.offsetsRetentionMs = 60_000
        config.offsetsRetentionCheckIntervalMs = 1_000
        let h = Harness(config: config)
        let (members, generation, _) = h.formStableGroup(count: 1)
        _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(p0, offset: 1)])
        for _ in 0..<40 {
            _ = h.heartbeat(generation: generation, memberID: members[0])
            h.advance(3_000)
        }
        XCTAssertEqual(h.core.fetchOffsets(groupID: "g", partitions: [p0]).offsets[p0]??.offset, 1)
    }

    func testOffsetsOfAGroupExpireRetentionAfterItBecameEmpty() {
        var config = GroupConfig()
        config.offsetsRetentionMs = 60_000
        config.offsetsRetentionCheckIntervalMs = 1_000
        let h = Harness(config: config)
        let (members, generation, _) = h.formStableGroup(count: 1)
        _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(p0, offset: 1)])
        h.advance(50_000)  // the member's session ends: the group empties
        XCTAssertEqual(h.core.state(of: "g"), .empty)
        h.advance(50_000)
        XCTAssertNotNil(h.core.state(of: "g"))
        h.advance(10_000)
        XCTAssertNil(h.core.state(of: "g"))
    }
}

final class GroupIDTests: XCTestCase {
    func testTheEmptyGroupIDIsRefusedForMembershipButAllowedForOffsets() {
        let h = Harness()
        XCTAssertEqual(h.answer(h.join(""))?.error, .invalidGroupID)
        XCTAssertEqual(h.answer(h.sync("", generation: 1, memberID: "m"))?.error, .invalidGroupID)
        XCTAssertEqual(h.heartbeat("", generation: 1, memberID: "m"), .invalidGroupID)
        XCTAssertEqual(h.leave([LeavingMember(memberID: "m")], group: "").error, .invalidGroupID)
        let p0 = TopicPartition("t", 0)
        XCTAssertEqual(h.commit("", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 8)]), [GroupError.none])
        XCTAssertEqual(h.core.fetchOffsets(groupID: "", partitions: [p0]).offsets[p0]??.offset, 8)
    }
}
