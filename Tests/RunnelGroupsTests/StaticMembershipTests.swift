import XCTest

@testable import RunnelGroups

final class StaticMembershipTests: XCTestCase {
    func testStaticMemberRejoiningUnchangedKeepsTheGenerationWithoutRebalance() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2, instances: ["i0", "i1"])
        h.records = []
        let rejoin = h.answer(h.join(instance: "i1", clientID: "c1"))!
        XCTAssertEqual(rejoin.error, GroupError.none)
        XCTAssertEqual(rejoin.generationID, generation)
        XCTAssertNotEqual(rejoin.memberID, members[1])
        XCTAssertEqual(h.core.state(of: "g"), .stable)
        XCTAssertEqual(h.records.count, 1, "the new member id is persisted")
        XCTAssertEqual(h.answer(h.sync(generation: generation, memberID: rejoin.memberID, instance: "i1"))?.assignment, [1])
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: rejoin.memberID, instance: "i1"), GroupError.none)
    }

    func testOldMemberIDOfAReplacedStaticMemberIsFenced() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2, instances: ["i0", "i1"])
        _ = h.join(instance: "i1")
        XCTAssertEqual(h.heartbeat(generation: generation, memberID: members[1], instance: "i1"), .fencedInstanceID)
        XCTAssertEqual(h.answer(h.sync(generation: generation, memberID: members[1], instance: "i1"))?.error, .fencedInstanceID)
        XCTAssertEqual(
            h.commit(generation: generation, memberID: members[1], instance: "i1", [OffsetCommitEntry(TopicPartition("t", 0), offset: 1)]),
            [.fencedInstanceID])
        XCTAssertEqual(h.answer(h.join(memberID: members[1], instance: "i1"))?.error, .fencedInstanceID)
    }

    func testRejoiningStaticLeaderIsToldTheOldLeaderIDSoItDoesNotReassign() {
        let h = Harness()
        let (members, _, leader) = h.formStableGroup(count: 2, instances: ["i0", "i1"])
        let instance = members[0] == leader ? "i0" : "i1"
        let rejoin = h.answer(h.join(instance: instance))!
        XCTAssertEqual(rejoin.leaderID, leader)
        XCTAssertNotEqual(rejoin.memberID, rejoin.leaderID)
        XCTAssertEqual(rejoin.members, [])
    }

    func testStaticMemberChangingTheSelectedProtocolRebalances() {
        let h = Harness()
        _ = h.formStableGroup(count: 1, instances: ["i0"])
        let rejoin = h.join(instance: "i0", protocols: [roundRobin, range])
        XCTAssertEqual(h.core.state(of: "g"), .completingRebalance, "the lone member rejoined, so the join completes at once")
        XCTAssertEqual(h.answer(rejoin)?.protocolName, "roundrobin")
    }

    func testStaticMemberThatMissesARebalanceIsKeptUntilItsSessionEnds() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2, instances: ["i0", "i1"])
        let a = h.join(memberID: members[0], instance: "i0")
        h.advance(30_000)
        XCTAssertEqual(h.answer(a)?.generationID, generation + 1)
        XCTAssertEqual(h.core.describe(groupIDs: ["g"])[0].members.count, 1, "i1 missed its session (10 s) meanwhile")
    }
}
