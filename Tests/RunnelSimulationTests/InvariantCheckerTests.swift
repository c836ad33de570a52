import RunnelRaft
@testable import RunnelSimulation
import XCTest

/// Each checker, fed a bad observation, must report it under its name.
final class InvariantCheckerTests: XCTestCase {
    let a = NodeID(1), b = NodeID(2)

    func entry(_ index: UInt64, _ term: UInt64, _ data: String = "x") -> Entry {
        Entry(term: Term(term), index: LogIndex(index), data: Array(data.utf8))
    }

    func testTwoLeadersInOneTermAreReported() {
        var checker = InvariantChecker()
        checker.observeLeader(a, term: Term(3))
        checker.observeLeader(a, term: Term(3))
        checker.observeLeader(b, term: Term(4))
        XCTAssertEqual(checker.violations, [])
        checker.observeLeader(b, term: Term(3))
        XCTAssertEqual(checker.violations.map(\.invariant), [.singleLeaderPerTerm])
    }

    func testSameIndexAndTermAfterDifferentPredecessorsIsReported() {
        var checker = InvariantChecker()
        checker.observeAppended(a, entries: [entry(5, 2), entry(6, 3)], previousTerm: Term(1))
        checker.observeAppended(b, entries: [entry(6, 3)], previousTerm: Term(2))
        XCTAssertEqual(checker.violations, [])
        checker.observeAppended(b, entries: [entry(5, 1), entry(6, 3)], previousTerm: Term(1))
        XCTAssertEqual(checker.violations.map(\.invariant), [.logMatching])
    }

    func testSameIndexAndTermWithDifferentContentIsReported() {
        var checker = InvariantChecker()
        checker.observeAppended(a, entries: [entry(5, 2, "p")], previousTerm: Term(1))
        checker.observeAppended(b, entries: [entry(5, 2, "q")], previousTerm: Term(1))
        XCTAssertEqual(checker.violations.map(\.invariant), [.logMatching])
    }

    func testACommittedEntryThatChangesIsReported() {
        var checker = InvariantChecker()
        checker.observeCommitted(a, entry(7, 2))
        checker.observeCommitted(b, entry(7, 2))
        XCTAssertEqual(checker.violations, [])
        checker.observeCommitted(b, entry(7, 3))
        checker.observeSnapshot(b, SnapshotMetadata(index: LogIndex(7), term: Term(4), membership: Membership()))
        XCTAssertEqual(checker.violations.map(\.invariant), [.committedEntriesNeverChange, .committedEntriesNeverChange])
    }

    func testADurableCommitThatGoesBackIsReportedPerDirectory() {
        var checker = InvariantChecker()
        let old = Voter(id: a, directory: DirectoryID(high: 0, low: 1))
        let wiped = Voter(id: a, directory: DirectoryID(high: 0, low: 2))
        checker.observeDurableCommit(old, LogIndex(9), context: "sync")
        checker.observeDurableCommit(wiped, LogIndex(0), context: "restart")
        XCTAssertEqual(checker.violations, [], "a new directory starts afresh")
        checker.observeDurableCommit(old, LogIndex(8), context: "restart")
        XCTAssertEqual(checker.violations.map(\.invariant), [.monotonicCommitIndex])
    }

    func testDifferentStatesAfterTheSameIndexAreReported() {
        var checker = InvariantChecker()
        checker.observeApplied(a, index: LogIndex(3), hash: 11)
        checker.observeApplied(b, index: LogIndex(3), hash: 11)
        XCTAssertEqual(checker.violations, [])
        checker.observeApplied(b, index: LogIndex(3), hash: 12)
        XCTAssertEqual(checker.violations.map(\.invariant), [.stateMachineSafety])
    }

    func testALeaderMissingACommittedEntryIsReported() {
        var checker = InvariantChecker()
        checker.observeCommitted(a, entry(1, 1))
        checker.observeCommitted(a, entry(2, 1))
        let complete = [entry(1, 1), entry(2, 1)]
        checker.observeNewLeader(b, term: Term(2), snapshotIndex: .zero) { i in complete.first { $0.index == i } }
        checker.observeNewLeader(b, term: Term(2), snapshotIndex: LogIndex(2)) { _ in nil }
        XCTAssertEqual(checker.violations, [])
        let stale = [entry(1, 1)]
        checker.observeNewLeader(b, term: Term(3), snapshotIndex: .zero) { i in stale.first { $0.index == i } }
        XCTAssertEqual(checker.violations.map(\.invariant), [.leaderCompleteness])
    }

    func testLivenessFailsWhenTheBoundIsTooShort() throws {
        // Liveness is checked for plans with pre-vote (the configuration Runnel runs).
        let results = (UInt64(1)...20).lazy.map { Simulation.run(SimulationOptions(seed: $0, nodeCount: 3, faultPhaseTicks: 50, livenessTicksMax: 1)) }
        let result = try XCTUnwrap(results.first { $0.plan.preVote })
        XCTAssertEqual(result.violations.map(\.invariant), [.liveness])
    }
}

final class NetworkAndPlanTests: XCTestCase {
    let five = (1...5).map { NodeID(UInt64($0)) }

    func testMajorityRingLetsEachNodeReachExactlyItsTwoNeighbours() {
        let blocked = Partition.majorityRing.blockedLinks(nodes: five)
        for node in five {
            let reachable = five.filter { $0 != node && !blocked.contains(Link(from: node, to: $0)) }
            XCTAssertEqual(reachable.count, 2, "\(node)")
        }
        XCTAssertFalse(blocked.contains(Link(from: NodeID(1), to: NodeID(5))), "the ring wraps")
    }

    func testOneWayPartitionBlocksOnlyOneDirection() {
        let blocked = Partition.oneWay(from: NodeID(1), to: NodeID(2)).blockedLinks(nodes: five)
        XCTAssertEqual(blocked, [Link(from: NodeID(1), to: NodeID(2))])
    }

    func testSplitCutsEveryLinkAcrossBothWays() {
        let blocked = Partition.split([NodeID(1), NodeID(2)]).blockedLinks(nodes: five)
        XCTAssertEqual(blocked.count, 2 * 2 * 3)
        XCTAssertFalse(blocked.contains(Link(from: NodeID(1), to: NodeID(2))))
    }

    func testThePlanIsAFunctionOfTheSeed() {
        let a = FaultPlan.draw(seed: 9, nodes: five, faultPhaseUnits: 4_000, unitsPerTick: 10)
        XCTAssertEqual(a, FaultPlan.draw(seed: 9, nodes: five, faultPhaseUnits: 4_000, unitsPerTick: 10))
        XCTAssertNotEqual(a, FaultPlan.draw(seed: 10, nodes: five, faultPhaseUnits: 4_000, unitsPerTick: 10))
        XCTAssertTrue(a.schedule.allSatisfy { $0.atUnits >= 0 })
        XCTAssertEqual(a.schedule.map(\.atUnits), a.schedule.map(\.atUnits).sorted())
    }

    func testSeedSetsExerciseEveryKindOfFault() {
        var kinds: Set<String> = []
        for seed in 1...50 as ClosedRange<UInt64> {
            for scheduled in FaultPlan.draw(seed: seed, nodes: five, faultPhaseUnits: 4_000, unitsPerTick: 10).schedule {
                kinds.insert(String(scheduled.fault.description.prefix { $0 != "(" }))
            }
        }
        for kind in ["crash", "restart", "wipe", "failDisk", "partition", "heal", "removeVoter", "crashLeader", "crashAfterVotes", "isolateLeader"] {
            XCTAssertTrue(kinds.contains(kind), kind)
        }
    }
}
