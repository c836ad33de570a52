import NIOCore
import RunnelRecords
import RunnelStorage
import RunnelWire
import XCTest

final class IdempotentProduceTests: XCTestCase {
    static func initProducerId(_ harness: BrokerHarness, version: Int16 = 4) async throws -> InitProducerIdResponse {
        var request = InitProducerIdRequest()
        request.transactionalId = nil
        request.transactionTimeoutMs = 60_000
        let response = try await harness.call(request, version: version)
        return try XCTUnwrap(response)
    }

    static func batch(producerId: Int64, epoch: Int16 = 0, sequence: Int32, values: [String]) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(producerId: producerId, producerEpoch: epoch, baseSequence: sequence)
        for (i, value) in values.enumerated() { builder.append(key: nil, value: Array(value.utf8), timestampMs: 1_700_000_000_000 + Int64(i)) }
        return try builder.build()
    }

    func testProducerIdsAreNeverReusedAcrossARestart() async throws {
        let fs = SimulatedFileSystem()
        var seen: Set<Int64> = []
        do {
            let harness = try await BrokerHarness(fileSystem: fs)
            for version: Int16 in [0, 2, 4] {
                let response = try await Self.initProducerId(harness, version: version)
                XCTAssertEqual(response.errorCode, 0)
                XCTAssertEqual(response.producerEpoch, 0)
                XCTAssertTrue(seen.insert(response.producerId).inserted)
            }
        }
        fs.crash()
        let restarted = try await BrokerHarness(fileSystem: fs)
        for _ in 0..<3 {
            let response = try await Self.initProducerId(restarted)
            XCTAssertEqual(response.errorCode, 0)
            XCTAssertTrue(seen.insert(response.producerId).inserted, "id \(response.producerId) handed out twice")
        }
    }

    func testProducerAskingWithItsCurrentIdGetsAFreshOneAsKafkaAnswersIdempotentProducers() async throws {
        let harness = try await BrokerHarness()
        let first = try await Self.initProducerId(harness)
        var request = InitProducerIdRequest()
        request.transactionalId = nil
        request.producerId = first.producerId
        request.producerEpoch = first.producerEpoch
        let again = try await harness.call(request, version: 4)
        XCTAssertEqual(again?.errorCode, 0)
        XCTAssertEqual(again?.producerEpoch, 0)
        XCTAssertNotEqual(again?.producerId, first.producerId)
    }

    func testTransactionalIdIsRefusedClearly() async throws {
        let harness = try await BrokerHarness()
        var request = InitProducerIdRequest()
        request.transactionalId = "tx-1"
        request.transactionTimeoutMs = 60_000
        let response = try await harness.call(request, version: 4)
        XCTAssertEqual(response?.errorCode, ErrorCode.transactionalIdAuthorizationFailed.rawValue)
        XCTAssertEqual(response?.producerId, -1)
    }

    func testRetriedProduceIsAnsweredWithTheOriginalOffsetAndStoredOnce() async throws {
        let harness = try await BrokerHarness()
        try await harness.createTopic("t")
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let producerId = try await Self.initProducerId(harness).producerId
        _ = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: try BrokerHarness.batch(["other"]), acks: -1), version: 9)
        let batch = try Self.batch(producerId: producerId, sequence: 0, values: ["a", "b"])
        let first = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: batch, acks: -1), version: 9)
        let retry = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: batch, acks: -1), version: 9)
        let firstAnswer = try XCTUnwrap(first?.responses.first?.partitionResponses.first)
        let retryAnswer = try XCTUnwrap(retry?.responses.first?.partitionResponses.first)
        XCTAssertEqual(firstAnswer.errorCode, 0)
        XCTAssertEqual(retryAnswer.errorCode, 0)
        XCTAssertEqual(firstAnswer.baseOffset, 1)
        XCTAssertEqual(retryAnswer.baseOffset, 1)

        let gap = try Self.batch(producerId: producerId, sequence: 5, values: ["x"])
        let gapAnswer = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: gap, acks: -1), version: 9)
        XCTAssertEqual(gapAnswer?.responses.first?.partitionResponses.first?.errorCode, ErrorCode.outOfOrderSequenceNumber.rawValue)

        let fetched = try await harness.call(BrokerHarness.fetchRequest(topic: "t", offset: 0), version: 12)
        XCTAssertEqual(try values(fetched?.responses.first?.partitions.first?.records), ["other", "a", "b"])
    }

    func testRetryAfterABrokerCrashIsStillDeduplicated() async throws {
        let fs = SimulatedFileSystem()
        let batch: ByteBuffer
        do {
            let harness = try await BrokerHarness(fileSystem: fs)
            try await harness.createTopic("t")
            let pump = harness.pumpSyncs()
            let producerId = try await Self.initProducerId(harness).producerId
            batch = try Self.batch(producerId: producerId, sequence: 0, values: ["once"])
            let answer = try await harness.call(BrokerHarness.produceRequest(topic: "t", records: batch, acks: -1), version: 9)
            XCTAssertEqual(answer?.responses.first?.partitionResponses.first?.errorCode, 0)
            pump.cancel()
        }
        fs.crash()
        let restarted = try await BrokerHarness(fileSystem: fs)
        let pump = restarted.pumpSyncs()
        defer { pump.cancel() }
        let retry = try await restarted.call(BrokerHarness.produceRequest(topic: "t", records: batch, acks: -1), version: 9)
        let answer = try XCTUnwrap(retry?.responses.first?.partitionResponses.first)
        XCTAssertEqual(answer.errorCode, 0)
        XCTAssertEqual(answer.baseOffset, 0)
        let fetched = try await restarted.call(BrokerHarness.fetchRequest(topic: "t", offset: 0), version: 12)
        XCTAssertEqual(try values(fetched?.responses.first?.partitions.first?.records), ["once"])
    }
}
