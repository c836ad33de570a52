import Foundation
import XCTest

/// Consumer groups with the real clients: members sharing partitions, leaving, stopped past their session
/// timeout, resuming at committed offsets across broker restarts, and described by kafka-python's admin
/// client and `runnel group`.
final class GroupCompatibilityTests: XCTestCase {
    nonisolated(unsafe) static var broker: BrokerProcess?

    /// A short initial delay: members started together still join one generation, tests wait less.
    static let brokerArguments = ["--group-initial-rebalance-delay-ms", "300"]

    var broker: BrokerProcess { Self.broker! }

    override func setUpWithError() throws {
        try Tools.requireBroker()
        if Self.broker == nil { Self.broker = try BrokerProcess(extraArguments: Self.brokerArguments) }
    }

    override class func tearDown() {
        broker?.stop()
        broker = nil
    }

    func testKafkaPythonGroupOfThreeSharesSixPartitionsAndResumesAtCommittedOffsets() throws {
        try runGroupScenario(broker, "kafka_python_group.py", ["group"])
    }

    func testAiokafkaGroupOfThreeSharesSixPartitionsAndResumesAtCommittedOffsets() throws {
        try runGroupScenario(broker, "aiokafka_group.py", ["group"])
    }

    func testConfluentKafkaMemberThatLeavesHasItsPartitionsTakenOver() throws {
        try runGroupScenario(broker, "confluent_group.py", ["leave"])
    }

    func testConfluentKafkaMemberStoppedPastItsSessionTimeoutIsReplacedAndRejoinsFenced() throws {
        let stdout = try runGroupScenario(broker, "confluent_group.py", ["sigstop"])
        // Taken over by the session timeout (6 s), not by anything the stopped member did.
        let line = stdout.split(separator: "\n").first { $0.hasPrefix("TOOK OVER after ") }
        let seconds = line.flatMap { Double($0.split(separator: " ")[3]) }
        XCTAssertNotNil(seconds, stdout)
        if let seconds { XCTAssertGreaterThanOrEqual(seconds, 5.5, "the stopped member was replaced before its session expired") }
    }

    func testKafkaPythonAdminAndRunnelGroupCommandDescribeALiveGroup() throws {
        let stdout = try runGroupScenario(broker, "kafka_python_group.py", ["describe"], environment: ["RUNNEL_BINARY": BrokerProcess.binary])
        XCTAssertTrue(stdout.contains("CLI runnel group describe"), "the runnel binary was run: \(stdout)")
    }

    func testRunnelGroupDescribeOfAnUnknownGroupFails() throws {
        let output = try runCommand(BrokerProcess.binary, ["group", "describe", "no-such-group", "--bootstrap", broker.bootstrap])
        XCTAssertEqual(output.status, 1, output.stdout)
        XCTAssertTrue(output.stderr.contains("group no-such-group does not exist"), output.stderr)
    }
}

/// Committed offsets are rebuilt from `__consumer_offsets` after a clean stop and after SIGKILL.
final class GroupRestartTests: XCTestCase {
    func testConsumersResumeAtCommittedOffsetsAfterCleanRestartAndAfterSigkill() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: GroupCompatibilityTests.brokerArguments)
        defer { broker.stop() }
        let topic = "restart-\(UUID().uuidString.prefix(8))", group = "g-\(UUID().uuidString.prefix(8))"
        var ends = "-"
        for restart in [nil, SIGTERM, SIGKILL] as [Int32?] {
            if let restart {
                broker.kill(signal: restart)
                try broker.start()
            }
            let stdout = try runGroupScenario(broker, "confluent_group.py", ["resume", topic, group, ends])
            let line = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("ENDS ") }, stdout)
            ends = String(line.dropFirst("ENDS ".count))
        }
        // Three rounds of 30 records, all committed.
        let total = ends.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { Int($0) } }.reduce(0, +)
        XCTAssertEqual(total, 90, ends)
    }
}

/// Runs a client script's scenario against `broker`; fails with the script's output and the broker log's tail.
@discardableResult
func runGroupScenario(
    _ broker: BrokerProcess, _ script: String, _ arguments: [String], environment: [String: String]? = nil,
    file: StaticString = #filePath, line: UInt = #line
) throws -> String {
    try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
    let output = try runCommand(
        Tools.python, ["\(CompatibilityTests.clientsDirectory)/\(script)", broker.bootstrap] + arguments, timeoutSeconds: 150,
        environment: environment)
    let scenario = arguments[0]
    XCTAssertEqual(
        output.status, 0, "\(script) \(scenario) failed:\n\(output.stdout)\n\(output.stderr)\nbroker log tail:\n\(broker.log.suffix(3000))",
        file: file, line: line)
    XCTAssertTrue(output.stdout.contains("PASS \(scenario)"), output.stdout, file: file, line: line)
    return output.stdout
}
