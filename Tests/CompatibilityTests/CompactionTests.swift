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

    private func setUpBroker(backoffMs: Int, deleteRetentionMs: Int? = nil) throws -> (BrokerProcess, String) {
        try Tools.requireBroker()
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        let broker = try BrokerProcess(extraArguments: ["--log-cleaner-backoff-ms", String(backoffMs)])
        let topic = "compacted-\(UUID().uuidString.prefix(8))"
        let created = try runCommand(Tools.python, [script, "create", broker.bootstrap, topic, "2048"] + (deleteRetentionMs.map { [String($0)] } ?? []),
                                     timeoutSeconds: 60)
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

    func testTombstonesGoOnceOlderThanDeleteRetention() throws {
        let (broker, topic) = try setUpBroker(backoffMs: 100, deleteRetentionMs: 2_000)
        defer { broker.stop() }
        var acked = try produce(broker, topic, rounds: 10, keys: 6, firstRound: 0)
        let tombstones = [latest(acked)["k0"]!, latest(acked)["k1"]!]
        let producedAt = Date()
        // Updates of the other keys only: the tombstones stay the latest records of k0 and k1, so only
        // delete.retention.ms can remove them — at a pass after they were compacted once and grew old.
        let deadline = Date().addingTimeInterval(60)
        var consumed: [Int: Entry] = [:]
        var round = 10
        repeat {
            Thread.sleep(forTimeInterval: 0.5)
            let more = try client(["produce", broker.bootstrap, topic, "1", "4", String(round), "2", "-"], broker)
            for ack in more { acked[ack.offset] = ack.entry }
            round += 1
            consumed = try consume(broker, topic)
        } while tombstones.contains(where: { consumed[$0] != nil }) && Date() < deadline
        XCTAssertTrue(tombstones.allSatisfy { consumed[$0] == nil }, "the tombstones were removed after \(round - 10) more rounds")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(producedAt), 2, "not before delete.retention.ms")
        XCTAssertFalse(consumed.values.contains { $0.key == "k0" || $0.key == "k1" }, "no older value of a deleted key comes back")
        for (offset, entry) in consumed { XCTAssertEqual(acked[offset], entry, "offset \(offset)") }
        let consumedLatest = latest(consumed)
        for key in (2..<6).map({ "k\($0)" }) {
            XCTAssertEqual(consumedLatest[key], latest(acked)[key], "key \(key) keeps its latest value")
        }
    }

    /// Every key's latest acknowledged record is there — or a later record of the key that was stored
    /// without its acknowledgement arriving (the broker died first) — and every consumed record that
    /// was acknowledged is the one acknowledged at its offset.
    private func assertNothingLost(_ consumed: [Int: Entry], acked: [Int: Entry], file: StaticString = #filePath, line: UInt = #line) {
        for (offset, entry) in consumed {
            if let ack = acked[offset] { XCTAssertEqual(ack, entry, "offset \(offset) changed", file: file, line: line) }
        }
        let consumedLatest = latest(consumed)
        for (key, offset) in latest(acked) {
            let kept = consumed[offset] == acked[offset] || consumedLatest[key, default: -1] > offset
            XCTAssertTrue(kept, "key \(key): latest acknowledged record at \(offset) lost", file: file, line: line)
        }
    }

    func testSigkillWhileCleaningLosesNoLatestValue() throws {
        let (broker, topic) = try setUpBroker(backoffMs: 10)
        defer { broker.stop() }
        // A steady acks=all stream over few keys keeps new dirty segments coming (segment.ms is 300), so
        // the cleaner, every 10 ms, is often busy when the broker is killed.
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: Tools.python)
        producer.arguments = [script, "stream", broker.bootstrap, topic, "4000", "16", "300"]
        let out = Pipe()
        producer.standardOutput = out
        producer.standardError = FileHandle.nullDevice
        try producer.run()
        let lines = Collected()
        let reading = DispatchGroup()
        reading.enter()
        DispatchQueue.global().async {
            lines.set(out.fileHandleForReading.readDataToEndOfFile(), isOut: true)
            reading.leave()
        }

        var kills = 0
        var killsMidPass = 0
        let killDelaysMs = [400, 650, 300, 800, 500, 350, 700, 450, 600, 550]
        for delayMs in killDelaysMs where producer.isRunning {
            Thread.sleep(forTimeInterval: Double(delayMs) / 1000)
            broker.kill(signal: SIGKILL)
            kills += 1
            if let directory = broker.partitionDirectory(topic: topic, partition: 0),
                let names = try? FileManager.default.contentsOfDirectory(atPath: directory),
                names.contains(where: { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") }) {
                killsMidPass += 1
            }
            try broker.start()
        }
        let deadline = Date().addingTimeInterval(150)
        while producer.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if producer.isRunning { producer.terminate() }
        producer.waitUntilExit()
        reading.wait()

        var acked: [Int: Entry] = [:]
        var failed = 0
        var failures: [String: Int] = [:]
        for line in lines.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            if parts.count == 4, parts[0] == "ACK", let offset = Int(parts[1]) { acked[offset] = Entry(key: parts[2], value: parts[3]) }
            if parts.first == "FAIL" {
                failed += 1
                failures[parts.dropFirst(2).joined(separator: " "), default: 0] += 1
            }
        }
        XCTAssertGreaterThan(kills, 3, "the broker was killed while the stream ran")
        // Records in flight across a kill may time out unacknowledged; the check needs only what was acknowledged.
        XCTAssertGreaterThan(acked.count, 1000, "much of the stream was acknowledged (\(failed) failed)")
        let consumed = try waitUntilCleaned(broker, topic, acked: acked.count)
        assertNothingLost(consumed, acked: acked)
        print("compaction under SIGKILL: \(kills) kills (\(killsMidPass) left a pass's files behind), acknowledged \(acked.count), failed \(failed), read back \(consumed.count); failures \(failures)")
    }
}
