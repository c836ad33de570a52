import RunnelBroker
import RunnelWire
import XCTest

/// Handlers stay linear in the size of the request: a hostile request of a few megabytes must not buy
/// minutes of CPU (issue 12, item 11).
final class LinearHandlersTests: XCTestCase {
    func testCreateTopicsWithTensOfThousandsOfTopicsIsAnsweredPromptly() async throws {
        let harness = try await BrokerHarness()
        var request = CreateTopicsRequest()
        request.validateOnly = true
        request.topics = (0..<100_000).map { i in
            var topic = CreateTopicsRequest.CreatableTopic()
            topic.name = "t\(i)"
            topic.numPartitions = 1
            topic.replicationFactor = 1
            return topic
        }
        request.topics.append(request.topics[0])  // one duplicate: both copies are refused
        let start = ContinuousClock.now
        let response = try await harness.call(request, version: 4)
        XCTAssertLessThan(start.duration(to: .now), .seconds(60), "the duplicate check must be linear")
        XCTAssertEqual(response?.topics.count, 100_001)
        XCTAssertEqual(response?.topics.filter { $0.errorCode == ErrorCode.invalidRequest.rawValue }.map(\.name), ["t0", "t0"])
        XCTAssertEqual(response?.topics.filter { $0.errorCode == 0 }.count, 99_999)
    }

    func testForgettingTensOfThousandsOfPartitionsOfAFetchSessionIsPrompt() async throws {
        let harness = try await BrokerHarness()
        let count = 50_000
        var create = BrokerHarness.fetchRequest(topic: "absent", offset: 0)
        create.sessionId = 0
        create.sessionEpoch = 0
        let template = create.topics[0].partitions[0]
        create.topics[0].partitions = (0..<Int32(count)).map { index in
            var p = template
            p.partition = index
            return p
        }
        let created = try await harness.call(create, version: 12)
        let sessionId = try XCTUnwrap(created?.sessionId)
        XCTAssertNotEqual(sessionId, 0)

        var forget = BrokerHarness.fetchRequest(topic: "absent", offset: 0)
        forget.sessionId = sessionId
        forget.sessionEpoch = 1
        forget.topics = []
        var forgotten = FetchRequest.ForgottenTopic()
        forgotten.topic = "absent"
        forgotten.partitions = (0..<Int32(count)).reversed()
        forget.forgottenTopicsData = [forgotten]
        let start = ContinuousClock.now
        let response = try await harness.call(forget, version: 12)
        XCTAssertLessThan(start.duration(to: .now), .seconds(30), "forgetting must be linear")
        XCTAssertEqual(response?.errorCode, 0)
        XCTAssertEqual(response?.responses.count, 0, "nothing is left in the session")
    }
}
