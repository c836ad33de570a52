import RunnelLab
import XCTest

final class HistoryCheckerTests: XCTestCase {
    typealias B = HistoryBuilder

    func testEveryAcknowledgedRecordReadInOrderIsClean() {
        var b = B()
        for i in 0..<5 { b.ack("v\(i)", at: Int64(i)) }
        b.assign()
        b.poll([(0, "v0"), (1, "v1"), (2, "v2")])
        b.poll([(3, "v3"), (4, "v4")])
        let result = b.check
        XCTAssertEqual(result.anomalies, [])
        XCTAssertTrue(result.isClean)
        XCTAssertEqual(result.sendCount, 5)
        XCTAssertEqual(result.acknowledgedCount, 5)
        XCTAssertEqual(result.readCount, 5)
        XCTAssertEqual(result.acknowledgedReadCount, 5)
    }

    func testFailedSendsMayBeReadOrMissing() {
        var b = B()
        b.ack("a", at: 0)
        b.fail("b")  // written after all (indeterminate): fine
        b.fail("c")  // never written: fine
        b.ack("d", at: 2)
        b.poll([(0, "a"), (1, "b"), (2, "d")])
        XCTAssertEqual(b.check.anomalies, [])
        XCTAssertEqual(b.check.acknowledgedCount, 2)
        XCTAssertEqual(b.check.sendCount, 4)
    }

    func testAcknowledgedRecordMissingBelowALaterReadIsLost() {
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 1)
        b.ack("c", at: 2)
        b.poll([(0, "a"), (2, "c")])
        let lost = b.check.anomalies(.lost)
        XCTAssertEqual(lost.count, 1)
        XCTAssertEqual(lost.first?.value, "b")
        XCTAssertEqual(lost.first?.offset, 1)
        XCTAssertEqual(b.check.count(.unseen), 0)
        // Reading 0 then 2 also jumps over the known offset 1.
        XCTAssertEqual(b.check.anomalies(.skippedPoll).map(\.offset), [1])
    }

    func testAcknowledgedRecordsPastTheLastReadAreUnseenNotLost() {
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 1)
        b.ack("c", at: 2)
        b.poll([(0, "a")])
        XCTAssertEqual(b.check.anomalies(.unseen).map(\.value), ["b", "c"])
        XCTAssertEqual(b.check.count(.lost), 0)
        XCTAssertEqual(b.check.anomalies.count, 2)
    }

    func testNothingReadMakesEveryAcknowledgementUnseen() {
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 0, B.p1)
        XCTAssertEqual(b.check.anomalies.map(\.kind), [.unseen, .unseen])
    }

    func testLostIsJudgedPerPartition() {
        var b = B()
        b.ack("a", at: 5, B.p0)
        b.ack("b", at: 0, B.p1)
        b.ack("c", at: 9, B.p1)
        b.poll([(9, "c")], B.p1)
        let result = b.check
        XCTAssertEqual(result.anomalies(.lost).map(\.value), ["b"])
        XCTAssertEqual(result.anomalies(.unseen).map(\.value), ["a"])
    }

    func testOneValueAtTwoOffsetsIsADuplicate() {
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 1)
        b.poll([(0, "a"), (1, "b"), (2, "a")])
        let duplicates = b.check.anomalies(.duplicate)
        XCTAssertEqual(duplicates.count, 1)
        XCTAssertEqual(duplicates.first?.value, "a")
        XCTAssertEqual(b.check.count(.inconsistentOffset), 0)
        XCTAssertEqual(b.check.anomalies.count, 1)
    }

    func testAValueAcknowledgedAtOneOffsetAndReadAtAnotherIsADuplicate() {
        var b = B()
        b.ack("a", at: 3)
        b.poll([(0, "x"), (1, "a")])
        XCTAssertEqual(b.check.anomalies(.duplicate).map(\.value), ["a"])
    }

    func testTwoValuesAtOneOffsetAreInconsistent() {
        var b = B()
        b.ack("a", at: 0)
        b.poll([(0, "b")], by: "c1")
        let result = b.check
        XCTAssertEqual(result.anomalies(.inconsistentOffset).map(\.offset), [0])
        // "a" is not read anywhere, and the read reached offset 0 only: unseen, not lost.
        XCTAssertEqual(result.anomalies(.unseen).map(\.value), ["a"])
        XCTAssertEqual(result.count(.duplicate), 0)
    }

    func testTwoConsumersDisagreeingOnAnOffsetAreInconsistent() {
        var b = B()
        b.poll([(0, "a"), (1, "b")], by: "c1")
        b.poll([(0, "a"), (1, "c")], by: "c2")
        XCTAssertEqual(b.check.anomalies.map(\.kind), [.inconsistentOffset])
        XCTAssertEqual(b.check.anomalies.first?.offset, 1)
    }

    func testAConsumerGoingBackIsNonMonotonic() {
        var b = B()
        b.poll([(0, "a"), (1, "b"), (2, "c")])
        b.poll([(1, "b")])
        let result = b.check
        XCTAssertEqual(result.anomalies.map(\.kind), [.nonMonotonicPoll])
        XCTAssertEqual(result.anomalies.first?.offset, 1)
    }

    func testAConsumerReadingAnOffsetTwiceInARowIsNonMonotonic() {
        var b = B()
        b.poll([(0, "a"), (0, "a")])
        XCTAssertEqual(b.check.anomalies.map(\.kind), [.nonMonotonicPoll])
    }

    func testReassignmentStartsTheConsumersOrderAfresh() {
        var b = B()
        b.assign()
        b.poll([(0, "a"), (1, "b")])
        b.assign()
        b.poll([(0, "a"), (1, "b")])
        XCTAssertEqual(b.check.anomalies, [])
    }

    func testEachConsumerHasItsOwnOrder() {
        var b = B()
        b.poll([(0, "a"), (1, "b")], by: "c1")
        b.poll([(0, "a")], by: "c2")
        XCTAssertEqual(b.check.anomalies, [])
    }

    func testJumpingOverAnOffsetOthersSawIsASkip() {
        var b = B()
        b.poll([(0, "a"), (1, "b"), (2, "c")], by: "c1")
        b.poll([(0, "a"), (2, "c")], by: "c2")
        let result = b.check
        XCTAssertEqual(result.anomalies.map(\.kind), [.skippedPoll])
        XCTAssertEqual(result.anomalies.first?.client, ClientID("c2"))
        XCTAssertEqual(result.anomalies.first?.offset, 1)
    }

    func testJumpingOverOffsetsNobodySawIsNotASkip() {
        // Gaps without records (aborted transactions, compaction) are legitimate.
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 5)
        b.poll([(0, "a"), (5, "b")])
        XCTAssertEqual(b.check.anomalies, [])
    }

    func testAProducersAcknowledgedOffsetsGoingBackIsNonMonotonic() {
        var b = B()
        b.ack("a", at: 1)
        b.ack("b", at: 0)
        b.poll([(0, "b"), (1, "a")])
        let result = b.check
        XCTAssertEqual(result.anomalies.map(\.kind), [.nonMonotonicSend])
        XCTAssertEqual(result.anomalies.first?.value, "b")
    }

    func testSendOrderIsPerProducerAndPartition() {
        var b = B()
        b.ack("a", at: 1, B.p0, by: "p1")
        b.ack("b", at: 0, B.p0, by: "p2")
        b.ack("c", at: 0, B.p1, by: "p1")
        b.poll([(0, "b"), (1, "a")], B.p0)
        b.poll([(0, "c")], B.p1)
        XCTAssertEqual(b.check.anomalies, [])
    }

    func testFailedSendsBetweenAcknowledgementsDoNotBreakSendOrder() {
        var b = B()
        b.ack("a", at: 0)
        b.fail("b")
        b.ack("c", at: 1)
        b.poll([(0, "a"), (1, "c")])
        XCTAssertEqual(b.check.anomalies, [])
    }

    func testFaultsInTheHistoryDoNotChangeTheVerdict() {
        var b = B()
        b.ack("a", at: 0)
        b.fault(.kill)
        b.fault(.pause, healed: false)
        b.ack("b", at: 1)
        b.poll([(0, "a"), (1, "b")])
        XCTAssertEqual(b.check.anomalies, [])
        XCTAssertEqual(b.history.faults.count, 2)
    }

    func testCheckingTwiceGivesTheSameResult() {
        var b = B()
        b.ack("a", at: 0)
        b.ack("b", at: 1)
        b.ack("c", at: 2)
        b.poll([(2, "x"), (0, "a"), (3, "a")])
        XCTAssertEqual(HistoryChecker.check(b.history), HistoryChecker.check(b.history))
        XCTAssertFalse(b.check.isClean)
    }
}
