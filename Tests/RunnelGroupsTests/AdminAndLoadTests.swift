import XCTest

@testable import RunnelGroups

final class AdminAndLoadTests: XCTestCase {
    func testDescribeShowsMembersAndAssignmentsOfAStableGroup() {
        let h = Harness()
        let (members, _, _) = h.formStableGroup(count: 2)
        let description = h.core.describe(groupIDs: ["g"])[0]
        XCTAssertEqual(description.state, .stable)
        XCTAssertEqual(description.protocolType, "consumer")
        XCTAssertEqual(description.protocolName, "range")
        XCTAssertEqual(description.members.map(\.memberID), members)
        XCTAssertEqual(description.members.map(\.assignment), [[0], [1]])
        XCTAssertEqual(description.members.map(\.metadata), [range.metadata, range.metadata])
        XCTAssertEqual(description.members.map(\.clientID), ["c0", "c1"])
    }

    func testDescribeHidesAssignmentsDuringARebalance() {
        let h = Harness()
        _ = h.formStableGroup(count: 1)
        _ = h.join(clientID: "newcomer")
        let description = h.core.describe(groupIDs: ["g"])[0]
        XCTAssertEqual(description.state, .preparingRebalance)
        XCTAssertEqual(description.protocolName, "")
        XCTAssertTrue(description.members.allSatisfy { $0.assignment.isEmpty && $0.metadata.isEmpty })
    }

    func testDescribingAnUnknownGroupSaysDead() {
        let description = GroupCoordinatorCore().describe(groupIDs: ["nobody"])[0]
        XCTAssertEqual(description.error, GroupError.none)
        XCTAssertEqual(description.state, .dead)
        XCTAssertEqual(description.members, [])
    }

    func testListShowsGroupsAndFiltersByState() {
        let h = Harness()
        _ = h.formStableGroup("stable", count: 1)
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("t", 0), offset: 1)])
        XCTAssertEqual(
            h.core.list(),
            [
                GroupListing(groupID: "simple", protocolType: "", state: .empty),
                GroupListing(groupID: "stable", protocolType: "consumer", state: .stable),
            ])
        XCTAssertEqual(h.core.list(states: [.stable]).map(\.groupID), ["stable"])
    }

    func testDeleteOfAGroupWithMembersIsRefused() {
        let h = Harness()
        _ = h.formStableGroup(count: 1)
        let (answers, _) = h.core.delete(groupIDs: ["g"], nowMs: h.nowMs)
        XCTAssertEqual(answers.map(\.1), [.nonEmptyGroup])
    }

    func testDeleteOfAnUnknownGroupIsNotFound() {
        var core = GroupCoordinatorCore()
        XCTAssertEqual(core.delete(groupIDs: ["nobody"], nowMs: 0).0.map(\.1), [.groupIDNotFound])
    }

    func testDeleteOfAnEmptyGroupRemovesItAndItsOffsets() {
        let h = Harness()
        let p0 = TopicPartition("t", 0)
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(p0, offset: 1)])
        let (answers, effects) = h.core.delete(groupIDs: ["simple"], nowMs: h.nowMs)
        XCTAssertEqual(answers.map(\.1), [GroupError.none])
        XCTAssertEqual(effects.records, [.offsetTombstone(groupID: "simple", p0), .groupTombstone(groupID: "simple")])
        XCTAssertNil(h.core.state(of: "simple"))
        XCTAssertEqual(h.core.fetchOffsets(groupID: "simple", partitions: nil).offsets.count, 0)
    }

    func testRebuildingFromTheEmittedRecordsGivesTheSameState() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 3, instances: ["i0", "i1", "i2"])
        _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(TopicPartition("t", 0), offset: 10)])
        _ = h.commit(generation: generation, memberID: members[1], [OffsetCommitEntry(TopicPartition("t", 1), offset: 20, metadata: "x")])
        _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(TopicPartition("t", 0), offset: 11)])
        _ = h.join(instance: "i2")  // static replacement, persisted without a rebalance
        _ = h.commit("simple", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("u", 0), offset: 5)])
        _ = h.commit("deleted", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("u", 0), offset: 5)])
        let (_, deletion) = h.core.delete(groupIDs: ["deleted"], nowMs: h.nowMs)
        h.absorb(deletion)
        _ = h.formStableGroup("emptied", count: 1)
        let emptiedMember = h.core.describe(groupIDs: ["emptied"])[0].members[0].memberID
        _ = h.leave([LeavingMember(memberID: emptiedMember)], group: "emptied")

        var rebuilt = GroupCoordinatorCore()
        rebuilt.load(h.records, nowMs: h.nowMs)
        let ids = ["g", "simple", "deleted", "emptied"]
        XCTAssertEqual(rebuilt.describe(groupIDs: ids), h.core.describe(groupIDs: ids))
        XCTAssertEqual(rebuilt.list(), h.core.list())
        for id in ids {
            XCTAssertEqual(rebuilt.fetchOffsets(groupID: id, partitions: nil), h.core.fetchOffsets(groupID: id, partitions: nil))
            XCTAssertEqual(rebuilt.generation(of: id), h.core.generation(of: id))
        }
        let current = rebuilt.describe(groupIDs: ["g"])[0].members.map(\.memberID)
        XCTAssertEqual(rebuilt.heartbeat(groupID: "g", generationID: generation, memberID: current[0], nowMs: h.nowMs), GroupError.none)
    }

    func testLoadedMembersThatNeverReturnExpireAndTheGroupEmpties() {
        let h = Harness()
        _ = h.formStableGroup(count: 1)
        let rebuilt = Harness()
        rebuilt.nowMs = h.nowMs
        rebuilt.core.load(h.records, nowMs: h.nowMs)
        XCTAssertEqual(rebuilt.core.state(of: "g"), .stable)
        rebuilt.advance(10_000)
        XCTAssertEqual(rebuilt.core.state(of: "g"), .empty)
    }

    func testRecordsCarryCompactionKeys() {
        let p = TopicPartition("t", 3)
        let commit = GroupRecord.offsetCommit(groupID: "g", p, CommittedOffset(offset: 1, commitTimestampMs: 0))
        XCTAssertEqual(commit.key, GroupRecord.offsetTombstone(groupID: "g", p).key)
        XCTAssertTrue(GroupRecord.offsetTombstone(groupID: "g", p).isTombstone)
        XCTAssertNotEqual(commit.key, GroupRecord.groupTombstone(groupID: "g").key)
    }

    func testErrorCodesMatchKafka() {
        XCTAssertEqual(GroupError.memberIDRequired.code, 79)
        XCTAssertEqual(GroupError.fencedInstanceID.code, 82)
        XCTAssertEqual(GroupError.rebalanceInProgress.code, 27)
        XCTAssertEqual(GroupError.illegalGeneration.code, 22)
        XCTAssertEqual(GroupError.unknownMemberID.code, 25)
        XCTAssertEqual(GroupError.groupMaxSizeReached.code, 81)
        XCTAssertEqual(GroupError.nonEmptyGroup.code, 68)
        XCTAssertEqual(GroupError.groupIDNotFound.code, 69)
    }
}

final class LoadRobustnessTests: XCTestCase {
    func testARecordRepeatingAMemberOrNamingAStrangerAsLeaderLoadsSafely() {
        let member = PersistedMember(
            memberID: "m", groupInstanceID: nil, clientID: "c", clientHost: "h", rebalanceTimeoutMs: 30_000,
            sessionTimeoutMs: 10_000, subscription: [1], assignment: [2])
        let value = GroupMetadataValue(
            protocolType: "consumer", generationID: 4, protocolName: "range", leaderID: "stranger", stateTimestampMs: 0,
            members: [member, member])
        var core = GroupCoordinatorCore()
        core.load([.groupMetadata(groupID: "g", value)], nowMs: 0)
        let description = core.describe(groupIDs: ["g"])[0]
        XCTAssertEqual(description.members.map(\.memberID), ["m"])
        XCTAssertEqual(core.state(of: "g"), .stable)
        let (outcome, effects) = core.join(
            JoinRequest(groupID: "g", memberID: "m", protocols: [GroupProtocol(name: "range", metadata: [1])]), nowMs: 1)
        guard case .pending(let token) = outcome else { return XCTFail("the leader's rejoin starts a rebalance") }
        XCTAssertEqual(effects.completions.count, 1)
        XCTAssertEqual(effects.completions.first, .join(token, JoinResult(
            error: .none, generationID: 5, protocolType: "consumer", protocolName: "range", leaderID: "m", memberID: "m",
            members: [JoinedMember(memberID: "m", groupInstanceID: nil, metadata: [1])])))
    }
}
