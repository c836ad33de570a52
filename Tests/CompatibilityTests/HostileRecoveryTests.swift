import Foundation
import NIOCore
import RunnelRecords
import RunnelWire
import XCTest

/// Issue 12, item 14 end to end: a segment damaged on disk while the broker was down never makes the
/// broker cut (or delete) acknowledged data; the partition is kept offline and the broker serves the rest.
final class HostileRecoveryTests: XCTestCase {
    private func createTopic(_ client: HostileClient, _ name: String, configs: [String: String] = [:]) throws {
        let response = try client.call(HostileRequests.createTopics([name], configs: configs), version: 5)
        XCTAssertEqual(response?.topics.first?.errorCode, 0, response?.topics.first?.errorMessage ?? "no answer")
    }

    /// Produces one batch with acks=all; the partition's error code (nil when nothing came back).
    private func produce(_ client: HostileClient, _ topic: String, value: [UInt8]) throws -> Int16? {
        var builder = RecordBatchBuilder()
        // Now: an old timestamp would roll a segment per batch (segment.ms counts from the first batch's).
        builder.append(key: nil, value: value, timestampMs: Int64(Date().timeIntervalSince1970 * 1000))
        let request = HostileRequests.produce(topic: topic, records: try builder.build())
        return try client.call(request, version: 7)?.responses.first?.partitionResponses.first?.errorCode
    }

    private func segmentSizes(_ directory: String) throws -> [String: Int] {
        var sizes: [String: Int] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".log") {
            sizes[name] = (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? -1
        }
        return sizes
    }

    func testACorruptBatchInASyncedSegmentKeepsThePartitionOfflineAndDeletesNothing() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        try createTopic(client, "damaged", configs: ["segment.bytes": "1024"])
        try createTopic(client, "healthy")
        for i in 0..<12 {
            XCTAssertEqual(try produce(client, "damaged", value: [UInt8](repeating: UInt8(i), count: 300)), 0, "acks=all produce \(i)")
        }
        let directory = try XCTUnwrap(broker.partitionDirectory(topic: "damaged", partition: 0))
        let sizes = try segmentSizes(directory)
        XCTAssertGreaterThan(sizes.count, 3, "the data must span several segments: \(sizes)")

        broker.kill()
        // A crash before the first checkpoint: recovery scans every segment. Then a bit rots in the
        // first (synced, sealed) segment, inside the records of its second batch.
        try? FileManager.default.removeItem(atPath: directory + "/recovery-point-checkpoint")
        let first = directory + "/" + sizes.keys.sorted()[0]
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: first)))
        let firstBatchBytes = 12 + bytes[8..<12].reduce(0) { $0 << 8 | Int($1) }  // offset, length, then the rest
        guard bytes.count > firstBatchBytes + 200 else { return XCTFail("the first segment must hold a second batch: \(sizes)") }
        bytes[firstBatchBytes + 150] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: first))

        try broker.start()
        broker.assertStillServes("after restarting on a corrupt segment")
        XCTAssertEqual(try segmentSizes(directory), sizes, "no segment may be cut or deleted")
        XCTAssertTrue(broker.log.contains("corrupt log segment \(first)"), "the corruption must be logged:\n\(broker.log.suffix(3000))")
        let again = try HostileClient(port: broker.port)
        let code = try produce(again, "damaged", value: [1, 2, 3])
        XCTAssertEqual(code, ErrorCode.kafkaStorageError.rawValue, "the damaged partition is offline and takes no appends")
        XCTAssertEqual(try produce(again, "healthy", value: [1, 2, 3]), 0, "the other partitions serve on")

        broker.assertRestartsAndServes("a second restart")
        XCTAssertEqual(try segmentSizes(directory), sizes, "a second restart deletes nothing either")
    }
}
