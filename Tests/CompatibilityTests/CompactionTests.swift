import Foundation
import XCTest

/// Log compaction seen through confluent-kafka: a topic created with cleanup.policy=compact keeps the
/// latest value of every key at the offset it was acknowledged with, and a broker SIGKILLed again and
/// again while its cleaner runs loses none of them.
final class CompactionCompatibilityTests: XCTestCase {
    struct Entry: Equatable {
        var key: String
        var value: String
    }

    private var script: String { "\(CompatibilityTests.clientsDirectory)/compaction_client.py" }

    private func client(_ arguments: [String], _ broker: BrokerProcess) throws -> [(tag: String, offset: Int, entry: Entry)] {
        let output = try runCommand(Tools.python, [script] + arguments, timeoutSeconds: 120)
        XCTAssertEqual(output.status, 0, "\(arguments.joined(separator: " ")):\n\(output.stdout)\n\(output.stderr)\nbroker log tail:\n\(broker.log.suffix(3000))")
        return output.stdout.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard parts.count == 4, let offset = Int(parts[1]) else { return nil }
            return (parts[0], offset, Entry(key: parts[2], value: parts[3]))
        }
    }

    private func produce(_ broker: BrokerProcess, _ topic: String, rounds: Int, keys: Int, firstRound: Int) throws -> [Int: Entry] {
        let acks = try client(["produce", broker.bootstrap, topic, String(rounds), String(keys), String(firstRound)], broker)
        XCTAssertEqual(acks.count, rounds * keys + 2, "every update and both tombstones acknowledged")
        return Dictionary(acks.map { ($0.offset, $0.entry) }, uniquingKeysWith: { a, _ in a })
    }

    private func consume(_ broker: BrokerProcess, _ topic: String) throws -> [Int: Entry] {
        let records = try client(["consume", broker.bootstrap, topic], broker).filter { $0.tag == "REC" }
        return Dictionary(records.map { ($0.offset, $0.entry) }, uniquingKeysWith: { a, _ in a })
    }

    /// The offset of each key's latest record.
    private func latest(_ log: [Int: Entry]) -> [String: Int] {
        var latest: [String: Int] = [:]
        for (offset, entry) in log where offset > latest[entry.key, default: -1] { latest[entry.key] = offset }
        return latest
    }

    /// Every consumed record is the acknowledged one at its offset, and every key's latest acknowledged
    /// record is there.
    private func assertCompacted(_ consumed: [Int: Entry], acked: [Int: Entry], file: StaticString = #filePath, line: UInt = #line) {
        for (offset, entry) in consumed {
            XCTAssertEqual(acked[offset], entry, "offset \(offset) holds something never acknowledged there", file: file, line: line)
        }
        for (key, offset) in latest(acked) {
            XCTAssertEqual(consumed[offset], acked[offset], "key \(key): latest record at \(offset) missing", file: file, line: line)
        }
    }

    /// Consumes until fewer records than were acknowledged remain (the cleaner has run), or times out.
    private func waitUntilCleaned(_ broker: BrokerProcess, _ topic: String, acked: Int, timeoutSeconds: Double = 90) throws -> [Int: Entry] {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var consumed = try consume(broker, topic)
        while consumed.count > acked / 2 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            consumed = try consume(broker, topic)
        }
        XCTAssertLessThanOrEqual(consumed.count, acked / 2, "the cleaner removed superseded records")
        return consumed
    }

    private func setUpBroker(backoffMs: Int) throws -> (BrokerProcess, String) {
        try Tools.requireBroker()
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        let broker = try BrokerProcess(extraArguments: ["--log-cleaner-backoff-ms", String(backoffMs)])
        let topic = "compacted-\(UUID().uuidString.prefix(8))"
        let created = try runCommand(Tools.python, [script, "create", broker.bootstrap, topic, "2048"], timeoutSeconds: 60)
        XCTAssertEqual(created.status, 0, created.stdout + created.stderr)
        return (broker, topic)
    }

    func testCompactedTopicKeepsTheLatestValuePerKeyAtItsOffset() throws {
        let (broker, topic) = try setUpBroker(backoffMs: 200)
        defer { broker.stop() }
        let acked = try produce(broker, topic, rounds: 30, keys: 10, firstRound: 0)
        let consumed = try waitUntilCleaned(broker, topic, acked: acked.count)
        assertCompacted(consumed, acked: acked)
        XCTAssertEqual(consumed[latest(acked)["k0"]!]?.value, "-null-", "the tombstone stays within delete.retention.ms")
        print("compaction: acknowledged \(acked.count), read back after cleaning \(consumed.count)")

        let keyless = try runCommand(Tools.python, [script, "keyless", broker.bootstrap, topic], timeoutSeconds: 60)
        XCTAssertEqual(keyless.status, 0, keyless.stderr)
        XCTAssertTrue(keyless.stdout.contains("ERROR INVALID_RECORD"), "a record without a key is refused: \(keyless.stdout)")
    }

    func testSigkillWhileCleaningLosesNoLatestValue() throws {
        let (broker, topic) = try setUpBroker(backoffMs: 20)
        defer { broker.stop() }
        var acked: [Int: Entry] = [:]
        let killDelaysMs = [5, 30, 60, 100, 150, 15, 45, 80]
        for (round, delayMs) in killDelaysMs.enumerated() {
            acked.merge(try produce(broker, topic, rounds: 8, keys: 12, firstRound: round * 8)) { a, _ in a }
            // The cleaner starts within its 20 ms backoff on the data just written: kill it at varied points.
            Thread.sleep(forTimeInterval: Double(delayMs) / 1000)
            broker.kill(signal: SIGKILL)
            try broker.start()
            assertCompacted(try consume(broker, topic), acked: acked)
        }
        let consumed = try waitUntilCleaned(broker, topic, acked: acked.count)
        assertCompacted(consumed, acked: acked)
        print("compaction under SIGKILL: \(killDelaysMs.count) kills, acknowledged \(acked.count), read back \(consumed.count)")
    }
}
