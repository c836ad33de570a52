import Foundation
import XCTest

/// SIGKILL in the middle of an acks=all stream: after a restart every acknowledged record is read back
/// at the offset it was acknowledged with.
final class DurabilityTests: XCTestCase {
    func testSigkillDuringAcksAllStreamLosesNoAcknowledgedRecord() throws {
        try Tools.requireBroker()
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        try Tools.require(Tools.kcat, "kcat")
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let topic = "durable-\(UUID().uuidString.prefix(8))"
        let create = try runCommand(BrokerProcess.binary, ["topic", "create", topic, "--partitions", "1", "--bootstrap", broker.bootstrap])
        XCTAssertEqual(create.status, 0, create.stderr + create.stdout)

        // The producer runs in the background; the broker dies under it once enough acks came back.
        let script = "\(CompatibilityTests.clientsDirectory)/acked_stream.py"
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: Tools.python)
        producer.arguments = [script, broker.bootstrap, topic, "200000"]
        let out = Pipe()
        producer.standardOutput = out
        producer.standardError = FileHandle.nullDevice
        try producer.run()
        var acked: [(offset: Int, value: String)] = []
        var pending = Data()
        let reader = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        var killed = false
        while Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                let parts = line.split(separator: " ")
                if parts.count == 3, parts[0] == "ACK", let offset = Int(parts[1]) { acked.append((offset, String(parts[2]))) }
            }
            if !killed && acked.count >= 3000 {
                broker.kill(signal: SIGKILL)
                killed = true
            }
        }
        producer.waitUntilExit()
        XCTAssertTrue(killed, "the broker was killed mid-stream (acks seen: \(acked.count))")
        try broker.start()

        let consumed = try runCommand(Tools.kcat, ["-b", broker.bootstrap, "-t", topic, "-p", "0", "-C", "-e", "-o", "beginning", "-f", "%o %s\\n"],
                               timeoutSeconds: 120)
        XCTAssertEqual(consumed.status, 0, consumed.stderr)
        var stored: [Int: String] = [:]
        for line in consumed.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let offset = Int(parts[0]) { stored[offset] = String(parts[1]) }
        }
        var lost = 0
        for record in acked where stored[record.offset] != record.value { lost += 1 }
        print("durability: acknowledged \(acked.count), stored after restart \(stored.count), lost \(lost)")
        XCTAssertEqual(lost, 0, "acknowledged records missing or moved after SIGKILL + restart")
        XCTAssertGreaterThanOrEqual(stored.count, acked.count)
    }
}

/// An idempotent producer behind a TCP proxy that cuts the connection after the broker appended a batch
/// but before the answer arrived: after the client's retry the partition holds the batch once.
final class IdempotentRetryTests: XCTestCase {
    func runCutProxy(client: String) throws {
        try Tools.requireBroker()
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        let proxyPort = try BrokerProcess.freePort()
        let broker = try BrokerProcess(advertisedPort: proxyPort)
        defer { broker.stop() }
        let script = "\(CompatibilityTests.clientsDirectory)/cut_proxy_retry.py"
        let output = try runCommand(Tools.python, [script, broker.bootstrap, String(proxyPort), client], timeoutSeconds: 120)
        XCTAssertEqual(output.status, 0, "\(output.stdout)\n\(output.stderr)\nbroker log tail:\n\(broker.log.suffix(3000))")
        XCTAssertTrue(output.stdout.contains("PASS cut_retry"), output.stdout)
    }

    func testConfluentKafkaRetryAfterACutConnectionIsStoredOnce() throws { try runCutProxy(client: "confluent") }

    /// The same, with the broker SIGKILLed and restarted between the append and the retry: the producer
    /// state is rebuilt from the log and its snapshot, so the retry is still recognised.
    func testConfluentKafkaRetryAcrossABrokerKillIsStoredOnce() throws {
        try Tools.requireBroker()
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        let proxyPort = try BrokerProcess.freePort()
        let broker = try BrokerProcess(advertisedPort: proxyPort)
        defer { broker.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.python)
        process.arguments = ["\(CompatibilityTests.clientsDirectory)/cut_proxy_retry.py", broker.bootstrap, String(proxyPort), "confluent", "--announce-cut"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var stdout = ""
        var restarted = false
        let reader = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            stdout += String(decoding: chunk, as: UTF8.self)
            if !restarted && stdout.contains("CUT") {
                broker.kill(signal: SIGKILL)
                try broker.start()
                restarted = true
            }
        }
        process.waitUntilExit()
        XCTAssertTrue(restarted, "the proxy never cut a produce answer: \(stdout)")
        XCTAssertEqual(process.terminationStatus, 0, "\(stdout)\nbroker log tail:\n\(broker.log.suffix(3000))")
        XCTAssertTrue(stdout.contains("PASS cut_retry"), stdout)
    }
    func testKafkaPythonRetryAfterACutConnectionIsStoredOnce() throws { try runCutProxy(client: "kafka-python") }
}
