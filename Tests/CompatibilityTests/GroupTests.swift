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

    func testConfluentKafkaStaticMemberReturnsWithinItsSessionWithoutARebalance() throws {
        try runGroupScenario(broker, "confluent_group.py", ["static"])
    }

    func testKafkaPythonAdminAndRunnelGroupCommandDescribeALiveGroup() throws {
        let stdout = try runGroupScenario(broker, "kafka_python_group.py", ["describe"], environment: ["RUNNEL_BINARY": BrokerProcess.binary])
        XCTAssertTrue(stdout.contains("CLI runnel group describe"), "the runnel binary was run: \(stdout)")
    }

    func testKcatBalancedConsumersShareSixPartitionsAndCommitOnExit() throws {
        try Tools.require(Tools.kcat, "kcat")
        let topic = "kcatg-\(UUID().uuidString.prefix(8))", group = "g-\(UUID().uuidString.prefix(8))"
        let create = try runCommand(BrokerProcess.binary, ["topic", "create", topic, "--partitions", "6", "--bootstrap", broker.bootstrap])
        XCTAssertEqual(create.status, 0, create.stderr)
        let lines = (0..<60).map { "k\($0):v\($0)" }.joined(separator: "\n") + "\n"
        let produced = try runCommand(Tools.kcat, ["-b", broker.bootstrap, "-t", topic, "-P", "-K:"], input: Data(lines.utf8))
        XCTAssertEqual(produced.status, 0, produced.stderr)

        // Two balanced consumers at once; each exits when its partitions are read (and commits on close).
        let outputs = Outputs(), bootstrap = broker.bootstrap
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            outputs.append(Result {
                try runCommand(
                    Tools.kcat, ["-b", bootstrap, "-G", group, topic, "-e", "-f", "%p %o\\n", "-X", "auto.offset.reset=earliest"],
                    timeoutSeconds: 60)
            })
        }
        var consumed: [String] = []
        for result in outputs.all {
            let output = try result.get()
            XCTAssertEqual(output.status, 0, output.stderr)
            consumed += output.stdout.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(consumed.count, 60, "every record once: \(consumed.sorted())")
        XCTAssertEqual(Set(consumed).count, 60)

        let described = try runCommand(BrokerProcess.binary, ["group", "describe", group, "--bootstrap", broker.bootstrap])
        XCTAssertEqual(described.status, 0, described.stderr)
        let rows = described.stdout.split(separator: "\n").filter { $0.hasPrefix("\ttopic=") }
        XCTAssertEqual(rows.count, 6, described.stdout)
        XCTAssertTrue(rows.allSatisfy { $0.contains("\tlag=0\t") }, "everything read was committed: \(described.stdout)")
    }

    func testRunnelGroupDescribeOfAnUnknownGroupFails() throws {
        let output = try runCommand(BrokerProcess.binary, ["group", "describe", "no-such-group", "--bootstrap", broker.bootstrap])
        XCTAssertEqual(output.status, 1, output.stdout)
        XCTAssertTrue(output.stderr.contains("group no-such-group does not exist"), output.stderr)
    }
}

/// `serve`'s group options are checked before the broker starts: flags and their `RUNNEL_*` variables.
final class GroupServeOptionTests: XCTestCase {
    func serve(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        try Tools.requireBroker()
        let dataDir = NSTemporaryDirectory() + "runnel-options-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        return try runCommand(
            BrokerProcess.binary, ["serve", "--data-dir", dataDir, "--kafka-listener", "127.0.0.1:\(try BrokerProcess.freePort())"] + arguments,
            timeoutSeconds: 30, environment: environment)
    }

    func testSessionTimeoutBoundsThatCrossAreRefused() throws {
        let output = try serve(["--group-min-session-timeout-ms", "7000", "--group-max-session-timeout-ms", "6000"])
        XCTAssertEqual(output.status, 2, output.stderr)
        XCTAssertTrue(output.stderr.contains("--group-min-session-timeout-ms 7000 is above --group-max-session-timeout-ms 6000"), output.stderr)
    }

    func testAnEnvironmentVariableIsReadAndCheckedWhenTheFlagIsAbsent() throws {
        let output = try serve([], environment: ["RUNNEL_OFFSETS_RETENTION_MINUTES": "soon"])
        XCTAssertEqual(output.status, 2, output.stderr)
        XCTAssertTrue(output.stderr.contains("--offsets-retention-minutes (RUNNEL_OFFSETS_RETENTION_MINUTES): 'soon' is not an integer"), output.stderr)
        let replicas = try serve([], environment: ["RUNNEL_OFFSETS_TOPIC_REPLICATION_FACTOR": "0"])
        XCTAssertEqual(replicas.status, 2, replicas.stderr)
        XCTAssertTrue(replicas.stderr.contains("RUNNEL_OFFSETS_TOPIC_REPLICATION_FACTOR"), replicas.stderr)
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

/// Results gathered from concurrent runs.
final class Outputs: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<Output, any Error>] = []
    func append(_ result: Result<Output, any Error>) { lock.lock(); results.append(result); lock.unlock() }
    var all: [Result<Output, any Error>] { lock.lock(); defer { lock.unlock() }; return results }
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
