import XCTest

@testable import RunnelGroups

final class JoinTests: XCTestCase {
    func testThreeConsumersStartingTogetherFormOneGenerationWithOneLeader() {
        let h = Harness()
        let a = h.join(clientID: "a")
        h.nowMs += 100
        let b = h.join(clientID: "b")
        h.nowMs += 100
        let c = h.join(clientID: "c")
        XCTAssertEqual(h.core.state(of: "g"), .preparingRebalance)
        h.advance(2_800)  // first delay over, but members joined during it: wait once more
        XCTAssertNil(h.answer(a))
        h.advance(3_000)
        let results = [a, b, c].map { h.answer($0)! }
        XCTAssertEqual(Set(results.map(\.generationID)), [1])
        XCTAssertEqual(Set(results.map(\.leaderID)).count, 1)
        XCTAssertEqual(Set(results.map(\.memberID)).count, 3)
        let leaders = results.filter { $0.memberID == $0.leaderID }
        XCTAssertEqual(leaders.count, 1)
        XCTAssertEqual(leaders[0].members.map(\.memberID), results.map(\.memberID))
        XCTAssertEqual(leaders[0].members.map(\.metadata), [range.metadata, range.metadata, range.metadata])
        XCTAssertTrue(results.filter { $0.memberID != $0.leaderID }.allSatisfy { $0.members.isEmpty })
        XCTAssertEqual(Set(results.map(\.protocolName)), ["range"])
        XCTAssertEqual(h.core.state(of: "g"), .completingRebalance)
    }

    func testLoneConsumerWaitsExactlyTheInitialDelay() {
        let h = Harness()
        let a = h.join()
        h.advance(2_999)
        XCTAssertNil(h.answer(a))
        h.advance(1)
        XCTAssertEqual(h.answer(a)?.error, GroupError.none)
        XCTAssertEqual(h.answer(a)?.generationID, 1)
    }

    func testInitialDelayIsCappedByTheRebalanceTimeout() {
        let h = Harness()
        let a = h.join(rebalanceTimeoutMs: 5_000)
        for _ in 0..<10 where h.answer(a) == nil {
            h.nowMs += 1_000
            h.join()  // someone new joins every second
            h.advance(0)
        }
        XCTAssertNotNil(h.answer(a))
        XCTAssertLessThanOrEqual(h.nowMs - 1_000_000, 5_000 + 1_000)
    }

    func testFourthConsumerJoiningTriggersRebalance() {
        let h = Harness()
        let (members, generation, leader) = h.formStableGroup(count: 3)
        let d = h.join(clientID: "d")
        XCTAssertEqual(h.core.state(of: "g"), .preparingRebalance)
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[1]), .rebalanceInProgress)
        let rejoins = members.map { h.join(memberID: $0) }
        let results = (rejoins + [d]).map { h.answer($0)! }
        XCTAssertEqual(Set(results.map(\.generationID)), [generation + 1])
        XCTAssertEqual(results[0].leaderID, leader)
        XCTAssertEqual(results.first { $0.memberID == leader }?.members.count, 4)
    }

    func testRebalanceTimeoutCompletesJoinWithTheMembersThatRejoined() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 3)
        let d = h.join(clientID: "d")
        let a = h.join(memberID: members[0])
        for _ in 0..<30 {
            // The third member keeps heartbeating but never rejoins.
            _ = h.heartbeat(generation: generation, memberID: members[2])
            h.advance(1_000)
        }
        XCTAssertEqual(h.answer(a)?.generationID, generation + 1)
        XCTAssertEqual(h.answer(d)?.generationID, generation + 1)
        let leader = h.answer(a)!.leaderID
        let memberList = [h.answer(a)!, h.answer(d)!].first { $0.memberID == leader }!.members.map(\.memberID)
        XCTAssertEqual(Set(memberList), [members[0], h.answer(d)!.memberID])
        XCTAssertEqual(h.heartbeat(generation: generation + 1, memberID: members[1]), .unknownMemberID)
        XCTAssertEqual(h.heartbeat(generation: generation + 1, memberID: members[2]), .unknownMemberID)
    }

    func testMemberMissingItsSessionTimeoutIsRemovedAndTheRestRebalance() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 3)
        var expired: [Expiration] = []
        for _ in 0..<10 {
            XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[0]), GroupError.none)
            XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[1]), GroupError.none)
            expired += h.advance(1_000)
        }
        XCTAssertEqual(expired.map(\.memberID), [members[2]])
        XCTAssertEqual(expired.map(\.kind), [.memberSessionTimedOut])
        XCTAssertEqual(h.core.state(of: "g"), .preparingRebalance)
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[0]), .rebalanceInProgress)
        let a = h.join(memberID: members[0])
        let b = h.join(memberID: members[1])
        XCTAssertEqual(h.answer(a)?.generationID, generation + 1)
        XCTAssertEqual(h.answer(b)?.generationID, generation + 1)
        let leaderAnswer = [h.answer(a)!, h.answer(b)!].first { $0.memberID == $0.leaderID }!
        XCTAssertEqual(leaderAnswer.members.map(\.memberID), [members[0], members[1]])
    }

    func testMemberIDRequiredThenJoinWithTheGivenID() {
        let h = Harness()
        let first = h.answer(h.join(requireKnownMemberID: true))!
        XCTAssertEqual(first.error, .memberIDRequired)
        XCTAssertFalse(first.memberID.isEmpty)
        XCTAssertEqual(h.core.state(of: "g"), .empty)
        let second = h.join(memberID: first.memberID, requireKnownMemberID: true)
        h.advance(3_000)
        XCTAssertEqual(h.answer(second)?.error, GroupError.none)
        XCTAssertEqual(h.answer(second)?.memberID, first.memberID)
        XCTAssertEqual(h.answer(second)?.leaderID, first.memberID)
    }

    func testPendingMemberThatNeverReturnsExpiresAfterItsSession() {
        let h = Harness()
        let first = h.answer(h.join(requireKnownMemberID: true))!
        let expired = h.advance(10_000)
        XCTAssertEqual(expired.map(\.kind), [.pendingMemberTimedOut])
        XCTAssertEqual(h.answer(h.join(memberID: first.memberID))?.error, .unknownMemberID)
    }

    func testPendingMemberHoldsUpTheRebalanceUntilItJoins() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        let newcomer = h.answer(h.join(requireKnownMemberID: true))!
        let a = h.join(memberID: members[0])  // leader rejoins: rebalance starts
        XCTAssertNil(h.answer(a), "waits for the member that was given an id")
        let b = h.join(memberID: newcomer.memberID)
        XCTAssertEqual(h.answer(a)?.generationID, generation + 1)
        XCTAssertEqual(h.answer(b)?.generationID, generation + 1)
    }

    func testJoinWithUnknownMemberIDIsRefused() {
        let h = Harness()
        XCTAssertEqual(h.answer(h.join(memberID: "ghost"))?.error, .unknownMemberID)
        _ = h.formStableGroup(count: 1)
        XCTAssertEqual(h.answer(h.join(memberID: "ghost"))?.error, .unknownMemberID)
    }

    func testInconsistentProtocolIsRefused() {
        let h = Harness()
        _ = h.join(protocols: [range])
        XCTAssertEqual(h.answer(h.join(protocols: [roundRobin]))?.error, .inconsistentGroupProtocol)
        XCTAssertEqual(h.answer(h.join(protocolType: "connect", protocols: [range]))?.error, .inconsistentGroupProtocol)
        XCTAssertEqual(h.answer(h.join("h", protocols: []))?.error, .inconsistentGroupProtocol)
        XCTAssertNil(h.core.state(of: "h"), "a refused first join leaves no group behind")
    }

    func testProtocolIsChosenByMemberVotes() {
        let h = Harness()
        let a = h.join(protocols: [roundRobin, range])
        _ = h.join(protocols: [range, roundRobin])
        _ = h.join(protocols: [range, roundRobin])
        h.advance(3_000)
        h.advance(3_000)
        XCTAssertEqual(h.answer(a)?.protocolName, "range")
    }

    func testSessionTimeoutOutsideTheBrokerBoundsIsRefused() {
        let h = Harness()
        XCTAssertEqual(h.answer(h.join(sessionTimeoutMs: 5_999))?.error, .invalidSessionTimeout)
        XCTAssertEqual(h.answer(h.join(sessionTimeoutMs: 1_800_001))?.error, .invalidSessionTimeout)
    }

    func testGroupMaxSizeIsEnforced() {
        var config = GroupConfig()
        config.groupSizeMax = 2
        let h = Harness(config: config)
        _ = h.join()
        _ = h.join()
        XCTAssertEqual(h.answer(h.join())?.error, .groupMaxSizeReached)
        XCTAssertEqual(h.answer(h.join(requireKnownMemberID: true))?.error, .groupMaxSizeReached)
    }

    func testGroupCountIsBounded() {
        var config = GroupConfig()
        config.groupsMax = 1
        let h = Harness(config: config)
        _ = h.join("one")
        XCTAssertEqual(h.answer(h.join("two"))?.error, .coordinatorNotAvailable)
        XCTAssertEqual(h.commit("two", generation: -1, memberID: "", [OffsetCommitEntry(TopicPartition("t", 0), offset: 1)]), [.coordinatorNotAvailable])
    }

    func testGenerationIDsIncreaseWithEveryRebalance() {
        let h = Harness()
        let (members, first, _) = h.formStableGroup(count: 1)
        var generation = first
        for _ in 0..<3 {
            let outcome = h.join(memberID: members[0])  // the leader rejoining forces a rebalance
            let next = h.answer(outcome)!
            XCTAssertEqual(next.generationID, generation + 1)
            generation = next.generationID
            h.sync(generation: generation, memberID: members[0], assignments: [(members[0], [9])])
        }
    }

    func testRejoinWhileCompletingRebalanceRepeatsTheAnswer() {
        let h = Harness()
        let a = h.join()
        h.advance(3_000)
        let first = h.answer(a)!
        let again = h.answer(h.join(memberID: first.memberID))!
        XCTAssertEqual(again, first)
    }

    func testFollowerRejoiningAStableGroupUnchangedGetsTheCurrentGeneration() {
        let h = Harness()
        let (members, generation, leader) = h.formStableGroup(count: 2)
        let follower = members.first { $0 != leader }!
        let answer = h.answer(h.join(memberID: follower))!
        XCTAssertEqual(answer.generationID, generation)
        XCTAssertEqual(h.core.state(of: "g"), .stable)
    }

    func testNewMemberIDsAreUniqueAndCarryTheClientID() {
        let h = Harness()
        let ids = (0..<5).map { _ in h.answer(h.join(clientID: "rdkafka", requireKnownMemberID: true))!.memberID }
        XCTAssertEqual(Set(ids).count, 5)
        XCTAssertTrue(ids.allSatisfy { $0.hasPrefix("rdkafka-") })
    }
}
