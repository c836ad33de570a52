import Foundation
import RunnelLab
import XCTest

final class ReportTests: XCTestCase {
    /// 3 s of history: acknowledgements in seconds 0 and 2, a kill verified in second 1, its heal issued
    /// at 2.5 s, the next acknowledgement 100 ms later, one failed send, everything read back.
    static func killHistory() -> History {
        let p = TopicPartition("t", 0)
        let c = ClientID("p1")
        var h = History()
        func ack(_ seq: Int, _ atMs: UInt64, _ offset: Int64) {
            h.append(.send(SendOperation(
                client: c, sequence: seq, partition: p, value: "v\(seq)", invokedNs: atMs * 1_000_000 - 500_000,
                completedNs: atMs * 1_000_000, outcome: .acknowledged(offset: offset))))
        }
        ack(0, 100, 0)
        ack(1, 200, 1)
        h.append(.fault(FaultOperation(
            kind: .kill, target: "node1", injectedNs: 1_000_000_000, verifiedNs: 1_200_000_000,
            healIssuedNs: 2_500_000_000, healedNs: 2_800_000_000)))
        h.append(.send(SendOperation(
            client: c, sequence: 2, partition: p, value: "v2", invokedNs: 1_100_000_000, completedNs: 1_300_000_000,
            outcome: .failed(error: "_TRANSPORT <broker down>"))))
        ack(3, 2_600, 2)
        h.append(.poll(PollOperation(
            client: ClientID("c1"), invokedNs: 2_700_000_000, completedNs: 2_900_000_000,
            records: [PolledRecord(partition: p, offset: 0, value: "v0"), PolledRecord(partition: p, offset: 1, value: "v1"),
                      PolledRecord(partition: p, offset: 2, value: "v3")])))
        return h
    }

    func testSummaryCountsOperationsAndRecoveryFromTheHistory() throws {
        let history = Self.killHistory()
        let summary = ScenarioSummary.make(
            name: "kill", status: .passed, message: "", history: history, check: HistoryChecker.check(history))
        XCTAssertEqual(summary.operations, 6)
        XCTAssertEqual(summary.sends, 4)
        XCTAssertEqual(summary.acknowledged, 3)
        XCTAssertEqual(summary.failedSends, 1)
        XCTAssertEqual(summary.reads, 3)
        XCTAssertEqual(summary.lost, 0)
        XCTAssertEqual(summary.duplicates, 0)
        XCTAssertEqual(try XCTUnwrap(summary.recoveryMs), 100, accuracy: 0.001)
        XCTAssertEqual(summary.timeline.bucketMs, 1_000)
        XCTAssertEqual(summary.timeline.acknowledged, [2, 0, 1])
        XCTAssertEqual(summary.timeline.errors, [0, 1, 0])
        XCTAssertEqual(summary.timeline.reads, [0, 0, 3])
    }

    func testAFaultWithNoAcknowledgementAfterItHasNoRecoveryTime() {
        var h = History()
        h.append(.fault(FaultOperation(kind: .pause, target: "node2", injectedNs: 0, verifiedNs: 10, healIssuedNs: 15, healedNs: 20)))
        let summary = ScenarioSummary.make(name: "pause", status: .failed, message: "no recovery", history: h,
                                           check: HistoryChecker.check(h))
        XCTAssertNil(summary.recoveryMs)
        XCTAssertEqual(summary.faults.count, 1)
    }

    func testLongRunsGetWiderTimelineBuckets() {
        var h = History()
        h.append(.clientError(ClientErrorEvent(client: ClientID("p"), timeNs: 3_000 * 1_000_000_000, message: "x")))
        let timeline = Timeline.make(h)
        XCTAssertLessThanOrEqual(timeline.acknowledged.count, Timeline.bucketsMax)
        XCTAssertEqual(timeline.bucketMs, 8_000)
        XCTAssertEqual(timeline.errors.reduce(0, +), 1)
    }

    func report() -> LabReport {
        let history = Self.killHistory()
        var lossy = history
        lossy.append(.send(SendOperation(
            client: ClientID("p1"), sequence: 9, partition: TopicPartition("t", 0), value: "gone<&>", invokedNs: 0,
            completedNs: 1, outcome: .acknowledged(offset: 1))))
        return LabReport(
            createdAt: "2026-11-27T07:00:00Z", librdkafkaVersion: "2.0.2",
            scenarios: [
                ScenarioSummary.make(name: "kill", status: .passed, message: "", history: history,
                                     check: HistoryChecker.check(history)),
                ScenarioSummary.make(name: "lossy", status: .failed, message: "1 lost", history: lossy,
                                     check: HistoryChecker.check(lossy)),
                ScenarioSummary.notRun(name: "seed", status: .pending, message: "pending: needs the cluster issue"),
            ])
    }

    func testPendingScenariosAreCountedApartFromExecutedOnes() {
        let report = report()
        XCTAssertEqual(report.executedCount, 2)
        XCTAssertEqual(report.passedCount, 1)
        XCTAssertEqual(report.failedCount, 1)
        XCTAssertEqual(report.pendingCount, 1)
        XCTAssertEqual(
            ReportRenderer.closingLine(report), "lab scenarios: 2 executed, 1 passed, 1 failed, 1 pending, 0 skipped")
        let blocked = LabReport(
            createdAt: "-", librdkafkaVersion: "-",
            scenarios: [.notRun(name: "kill", status: .blocked, message: "lab required"),
                        .notRun(name: "pause", status: .skipped, message: "no lab")])
        XCTAssertEqual(blocked.executedCount, 0)
        XCTAssertEqual(
            ReportRenderer.closingLine(blocked),
            "lab scenarios: 0 executed, 0 passed, 0 failed, 0 pending, 1 skipped, 1 blocked (lab required but missing)")
    }

    func testTextTableHasARowPerScenarioAndTheClosingLine() {
        let lines = ReportRenderer.text(report()).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("scenario"))
        XCTAssertTrue(lines[1].hasPrefix("kill "))
        XCTAssertTrue(lines[2].hasPrefix("lossy "))
        XCTAssertTrue(lines[3].hasPrefix("seed "))
        XCTAssertTrue(lines[1].hasSuffix("100"), lines[1])  // recovery ms
        XCTAssertEqual(lines.last, ReportRenderer.closingLine(report()))
    }

    func testJSONRoundTrips() throws {
        let report = report()
        let decoded = try JSONDecoder().decode(LabReport.self, from: ReportRenderer.json(report))
        XCTAssertEqual(decoded, report)
    }

    func testHTMLIsSelfContainedWithATimelinePerExecutedScenario() {
        let html = ReportRenderer.html(report())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2)
        XCTAssertTrue(html.contains("kill node1"))
        XCTAssertTrue(html.contains("pending: needs the cluster issue"))
        XCTAssertFalse(html.contains("gone<&>"), "text is escaped")
        XCTAssertTrue(html.contains("gone&lt;&amp;&gt;"))
        for external in ["src=", "href=", "@import", "url("] { XCTAssertFalse(html.contains(external), external) }
    }

    func testWriterPutsJSONAndHTMLInTheDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (json, html) = try ReportWriter.write(report(), to: directory)
        XCTAssertEqual(json.lastPathComponent, "lab-2026-11-27T070000Z.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: html.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("latest.html").path))
    }
}
