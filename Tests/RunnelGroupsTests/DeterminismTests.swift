import XCTest

@testable import RunnelGroups

final class DeterminismTests: XCTestCase {
    func testTheSameEventsGiveTheSameRecordsAndAnswers() {
        func run() -> (records: [GroupRecord], joins: [JoinToken: JoinResult], syncs: [SyncToken: SyncResult]) {
            let h = Harness()
            let (members, generation, _) = h.formStableGroup(count: 4)
            _ = h.commit(generation: generation, memberID: members[0], [OffsetCommitEntry(TopicPartition("t", 0), offset: 3)])
            _ = h.leave([LeavingMember(memberID: members[3])])
            for member in members.prefix(3) { h.join(memberID: member) }
            h.advance(40_000)
            return (h.records, h.joins, h.syncs)
        }
        let (first, second) = (run(), run())
        XCTAssertEqual(first.records, second.records)
        XCTAssertEqual(first.joins, second.joins)
        XCTAssertEqual(first.syncs, second.syncs)
    }

    func testNextDeadlineIsTheEndOfTheInitialDelay() {
        let h = Harness()
        XCTAssertNil(h.core.nextDeadlineMs())
        h.join()
        XCTAssertEqual(h.core.nextDeadlineMs(), h.nowMs + 3_000)
    }

    func testNextDeadlineOfAStableGroupIsTheEarliestSessionEnd() {
        let h = Harness()
        let (members, generation, _) = h.formStableGroup(count: 2)
        h.advance(0)  // the first tick also runs the retention check
        h.nowMs += 1_000
        _ = h.heartbeat(generation: generation, memberID: members[0])
        _ = h.heartbeat(generation: generation, memberID: members[1])
        XCTAssertEqual(h.core.nextDeadlineMs(), h.nowMs + 10_000)
        h.nowMs = h.core.nextDeadlineMs()! - 1
        XCTAssertEqual(h.advance(0), [])
        XCTAssertEqual(h.advance(1).count, 2)
    }
}
