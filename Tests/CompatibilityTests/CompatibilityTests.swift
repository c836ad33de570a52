import Foundation
import NIOCore
import RunnelCompression
import RunnelRecords
import XCTest

/// Real Kafka clients against a started `runnel serve`: kcat (Debian's librdkafka), confluent-kafka,
/// kafka-python and aiokafka. Each Python scenario is its own test so a failure names it.
final class CompatibilityTests: XCTestCase {
    nonisolated(unsafe) static var broker: BrokerProcess?

    var broker: BrokerProcess { Self.broker! }

    override func setUpWithError() throws {
        try Tools.requireBroker()
        if Self.broker == nil { Self.broker = try BrokerProcess() }
    }

    override class func tearDown() {
        broker?.stop()
        broker = nil
    }

    static var clientsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("clients").path
    }

    /// Runs one scenario of a client script; returns its stdout.
    @discardableResult
    func runScenario(_ script: String, _ scenario: String) throws -> String {
        try Tools.require(Tools.python, "the Python virtualenv with the Kafka clients")
        let output = try runCommand(Tools.python, ["\(Self.clientsDirectory)/\(script)", broker.bootstrap, scenario], timeoutSeconds: 180)
        XCTAssertEqual(output.status, 0, "\(script) \(scenario) failed:\n\(output.stdout)\n\(output.stderr)\nbroker log tail:\n\(broker.log.suffix(3000))")
        XCTAssertTrue(output.stdout.contains("PASS \(scenario)"), output.stdout)
        return output.stdout
    }

    /// The codec of every stored batch of the topic's partition 0, read from the segment files.
    func storedCodecs(topic: String) throws -> Set<CompressionCodec> {
        let directory = try XCTUnwrap(broker.partitionDirectory(topic: topic, partition: 0), "no log directory for \(topic)")
        var codecs = Set<CompressionCodec>()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".log") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            var iterator = RecordBatchIterator(ByteBuffer(bytes: data), verifyingChecksums: true)
            while let entry = try iterator.next() { codecs.insert(entry.header.codec) }
        }
        return codecs
    }

    /// Checks that the topic of the `IDEMPOTENT <topic>` line holds only batches with a producer id and
    /// consecutive sequences: the client really produced idempotently.
    func assertIdempotentBatches(_ stdout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let topic = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("IDEMPOTENT ") }?.split(separator: " ").last)
        let directory = try XCTUnwrap(broker.partitionDirectory(topic: String(topic), partition: 0), "no log directory for \(topic)")
        var headers: [RecordBatchHeader] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".log") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            var iterator = RecordBatchIterator(ByteBuffer(bytes: data), verifyingChecksums: true)
            while let entry = try iterator.next() { headers.append(entry.header) }
        }
        XCTAssertFalse(headers.isEmpty, file: file, line: line)
        XCTAssertEqual(Set(headers.map(\.producerId)).count, 1, "one producer id", file: file, line: line)
        XCTAssertTrue(headers.allSatisfy(\.hasProducerId), "every batch carries a producer id", file: file, line: line)
        for (previous, next) in zip(headers, headers.dropFirst()) {
            XCTAssertEqual(next.baseSequence, previous.lastSequence + 1, "consecutive sequences", file: file, line: line)
        }
    }

    /// Checks that each `CODEC <name> <topic>` line's topic holds batches of exactly that codec.
    func assertStoredCodecs(_ stdout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let lines = stdout.split(separator: "\n").filter { $0.hasPrefix("CODEC ") }
        XCTAssertEqual(lines.count, 5, "one line per codec", file: file, line: line)
        for entry in lines {
            let parts = entry.split(separator: " ").map(String.init)
            let expected: CompressionCodec = switch parts[1] {
            case "gzip": .gzip
            case "snappy": .snappy
            case "lz4": .lz4
            case "zstd": .zstd
            default: .none
            }
            XCTAssertEqual(try storedCodecs(topic: parts[2]), [expected], "topic \(parts[2])", file: file, line: line)
        }
    }

    // MARK: confluent-kafka (librdkafka from the wheel)

    func testConfluentKafkaAdmin() throws { try runScenario("confluent_compat.py", "admin") }
    func testConfluentKafkaEveryCodecIsStoredAsSent() throws { try assertStoredCodecs(try runScenario("confluent_compat.py", "codecs")) }
    func testConfluentKafkaNullsHeadersTimestampsAndLargeMessage() throws { try runScenario("confluent_compat.py", "records") }
    func testConfluentKafkaWatermarksAndOffsetsForTimes() throws { try runScenario("confluent_compat.py", "offsets") }
    func testConfluentKafkaLongPollIsWokenByAnAppend() throws { try runScenario("confluent_compat.py", "long_poll") }
    func testConfluentKafkaGroupOfThreeSharesSixPartitionsAndResumesAtCommittedOffsets() throws {
        try runScenario("confluent_compat.py", "group")
    }
    func testConfluentKafkaIdempotentProducerStoresEachMessageOnce() throws {
        try assertIdempotentBatches(try runScenario("confluent_compat.py", "idempotent"))
    }

    // MARK: kafka-python

    func testKafkaPythonAdmin() throws { try runScenario("kafka_python_compat.py", "admin") }
    func testKafkaPythonEveryCodecIsStoredAsSent() throws { try assertStoredCodecs(try runScenario("kafka_python_compat.py", "codecs")) }
    func testKafkaPythonRecordsAndOffsets() throws { try runScenario("kafka_python_compat.py", "records") }
    func testKafkaPythonDefaultIdempotentProducerStoresEachMessageOnce() throws {
        try assertIdempotentBatches(try runScenario("kafka_python_compat.py", "idempotent"))
    }

    // MARK: aiokafka

    func testAiokafkaAdmin() throws { try runScenario("aiokafka_compat.py", "admin") }
    func testAiokafkaEveryCodecIsStoredAsSent() throws { try assertStoredCodecs(try runScenario("aiokafka_compat.py", "codecs")) }
    func testAiokafkaRecordsAndOffsets() throws { try runScenario("aiokafka_compat.py", "records") }

    // MARK: kcat (Debian's librdkafka 2.0)

    func testKcatProducesConsumesAndListsMetadataWithEveryCodec() throws {
        try Tools.require(Tools.kcat, "kcat")
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
            let topic = "kcat-\(codec)-\(UUID().uuidString.prefix(8))"
            // Compressible values: librdkafka sends a batch uncompressed when compression would not shrink it.
            let lines = (0..<50).map { "key\($0):value-\($0)-" + String(repeating: "x", count: 200) }.joined(separator: "\n") + "\n"
            let produced = try runCommand(Tools.kcat, ["-b", broker.bootstrap, "-t", topic, "-P", "-K:", "-z", codec, "-X", "linger.ms=20"],
                                   input: Data(lines.utf8))
            XCTAssertEqual(produced.status, 0, produced.stderr)
            let consumed = try runCommand(Tools.kcat, ["-b", broker.bootstrap, "-t", topic, "-C", "-e", "-o", "beginning", "-f", "%o %k %s\\n"])
            XCTAssertEqual(consumed.status, 0, consumed.stderr)
            let expected = (0..<50).map { "\($0) key\($0) value-\($0)-" + String(repeating: "x", count: 200) }
            XCTAssertEqual(consumed.stdout.split(separator: "\n").map(String.init), expected, "codec \(codec)")
            let codecValue: CompressionCodec = ["gzip": .gzip, "snappy": .snappy, "lz4": .lz4, "zstd": .zstd][codec] ?? .none
            XCTAssertEqual(try storedCodecs(topic: topic), [codecValue], "kcat codec \(codec)")
        }
        let metadata = try runCommand(Tools.kcat, ["-b", broker.bootstrap, "-L"])
        XCTAssertEqual(metadata.status, 0, metadata.stderr)
        XCTAssertTrue(metadata.stdout.contains("broker 1 at 127.0.0.1:\(broker.port)"), metadata.stdout)
    }
}
