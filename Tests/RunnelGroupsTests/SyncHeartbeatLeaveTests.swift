import XCTest

@testable import RunnelGroups

final class SyncHeartbeatLeaveTests: XCTestCase {
    func testFollowersWaitForTheLeadersAssignment() {
        let h = Harness()
        let a = h.join(clientID: "a")
        let b = h.join(clientID: "b")
        h.advance(3_000)
        h.advance(3_000)
        let (ra, rb) = (h.answer(a)!, h.answer(b)!)
        let leader = ra.leaderID
        let follower = [ra, rb].first { $0.memberID != leader }!.memberID
        let waiting = h.sync(generation: ra.generationID, memberID: follower)
        XCTAssertNil(h.answer(waiting))
        let leaderSync = h.sync(generation: ra.generationID, memberID: leader, assignments: [(follower, [7, 7])])
        XCTAssertEqual(h.answer(waiting)?.assignment, [7, 7])
        XCTAssertEqual(h.answer(leaderSync)?.assignment, [], "a member the leader left out gets an empty assignment")
        XCTAssertEqual(h.answer(waiting)?.protocolName, "range")
        XCTAssertEqual(h.core.state(of: "g"), .stable)
    }

    func testSyncInAStableGroupReturnsTheCurrentAssignment() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        XCTAssertEqual(h.answer(h.sync(generation: generation, memberID: members[1]))?.assignment, [1])
    }

    func testSyncWithAnOldGenerationIsIllegal() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        XCTAssertEqual(h.answer(h.sync(generation: generation - 1, memberID: members[0]))?.error, .illegalGeneration)
    }

    func testSyncFromAnUnknownMemberIsRefused() {
        let h = Harness()
        let (_, generation, _) = h.formStableGroup(count: 1)
        XCTAssertEqual(h.answer(h.sync(generation: generation, memberID: "ghost"))?.error, .unknownMemberID)
        XCTAssertEqual(h.answer(h.sync("nogroup", generation: generation, memberID: "ghost"))?.error, .unknownMemberID)
    }

    func testSyncDuringAJoinPhaseIsRebalanceInProgress() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        _ = h.join(clientID: "newcomer")
        XCTAssertEqual(h.answer(h.sync(generation: generation, memberID: members[1]))?.error, .rebalanceInProgress)
    }

    func testWaitingSyncIsAnsweredWhenARebalanceStarts() {
        let h = Harness()
        let a = h.join(clientID: "a")
        let b = h.join(clientID: "b")
        h.advance(3_000)
        h.advance(3_000)
        let results = [h.answer(a)!, h.answer(b)!]
        let follower = results.first { $0.memberID != $0.leaderID }!
        let waiting = h.sync(generation: follower.generationID, memberID: follower.memberID)
        _ = h.join(clientID: "c")
        XCTAssertEqual(h.answer(waiting)?.error, .rebalanceInProgress)
    }

    func testMemberThatNeverSyncsIsRemoved() {
        let h = Harness()
        let a = h.join(clientID: "a")
        let b = h.join(clientID: "b")
        h.advance(3_000)
        h.advance(3_000)
        let results = [h.answer(a)!, h.answer(b)!]
        let leader = results[0].leaderID
        let follower = results.first { $0.memberID != leader }!.memberID
        h.sync(generation: results[0].generationID, memberID: leader, assignments: [(leader, [1]), (follower, [2])])
        var expired: [Expiration] = []
        for _ in 0..<30 {
            _ = h.heartbeat(generation: results[0].generationID, memberID: leader)
            _ = h.heartbeat(generation: results[0].generationID, memberID: follower)
            expired += h.advance(1_000)
        }
        XCTAssertEqual(expired.first?.memberID, follower)
        XCTAssertEqual(expired.first?.kind, .memberMissedSync)
    }

    func testHeartbeatErrors() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[0]), GroupError.none)
        XCTAssertEqual(h.heartbeat(generation: generation + 1, memberID: members[0]), .illegalGeneration)
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: "ghost"), .unknownMemberID)
        XCTAssertEqual(h.heartbeat("nogroup", generation: generation, memberID: members[0]), .unknownMemberID)
    }

    func testHeartbeatsKeepAMemberAlivePastItsSessionTimeout() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 1)
        for _ in 0..<60 {
            XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[0]), GroupError.none)
            XCTAssertEqual(h.advance(3_000), [])
        }
    }

    func testLeaveTriggersARebalanceAndTheLastLeaveEmptiesTheGroup() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        XCTAssertEqual(h.leave([LeavingMember(memberID: members[1])]).members.map(\.error), [GroupError.none])
        XCTAssertEqual(h.core.state(of: "g"), .preparingRebalance)
        let a = h.join(memberID: members[0])
        XCTAssertEqual(h.answer(a)?.generationID, generation + 1)
        XCTAssertEqual(h.answer(a)?.members.map(\.memberID), [members[0]])
        h.records = []
        XCTAssertEqual(h.leave([LeavingMember(memberID: members[0])]).members.map(\.error), [GroupError.none])
        XCTAssertEqual(h.core.state(of: "g"), .empty)
        XCTAssertEqual(h.core.generation(of: "g"), generation + 2)
        guard case .groupMetadata(_, let value) = h.records.last else { return XCTFail("empty generation not persisted") }
        XCTAssertEqual(value.members, [])
    }

    func testLeaveOfUnknownMembersAndGroups() {
        let h = Harness()
        XCTAssertEqual(h.leave([LeavingMember(memberID: "x")], group: "nogroup").members.map(\.error), [.unknownMemberID])
        _ = h.formStableGroup(count: 1)
        let result = h.leave([LeavingMember(memberID: "ghost"), LeavingMember(memberID: "", groupInstanceID: "nobody")])
        XCTAssertEqual(result.members.map(\.error), [.unknownMemberID, .unknownMemberID])
        XCTAssertEqual(h.core.state(of: "g"), .stable)
    }

    func testBatchLeaveByInstanceIDRemovesStaticMembers() {
        let h = Harness()
        _ = h.formStableGroup(count: 3, instances: ["i0", "i1", "i2"])
        let result = h.leave([
            LeavingMember(memberID: "", groupInstanceID: "i0"), LeavingMember(memberID: "", groupInstanceID: "i1"),
        ])
        XCTAssertEqual(result.members.map(\.error), [GroupError.none, GroupError.none])
        XCTAssertEqual(h.core.describe(groupIDs: ["g"])[0].members.map(\.groupInstanceID), ["i2"])
    }

    func testLeavingWhileWaitingInJoinAnswersTheJoin() {
        let h = Harness()
        let (members, _, _) = h.formStableGroup(count: 2)
        let waiting = h.join(memberID: members[0])
        XCTAssertNil(h.answer(waiting))
        _ = h.leave([LeavingMember(memberID: members[0])])
        XCTAssertEqual(h.answer(waiting)?.error, .unknownMemberID)
    }
}
