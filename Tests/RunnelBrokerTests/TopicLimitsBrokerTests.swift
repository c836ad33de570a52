import RunnelBroker
import RunnelWire
import XCTest

/// The partition and topic limits at the edge: CreateTopics, CreatePartitions and auto-creation past
/// them get POLICY_VIOLATION with the reason (issue 12, item 10).
final class TopicLimitsBrokerTests: XCTestCase {
    func testCreatesAndAutoCreationPastTheLimitAreRefusedWithPolicyViolation() async throws {
        let harness = try await BrokerHarness { $0.partitionsPerBrokerMax = 6 }  // the offsets topic takes one
        try await harness.createTopic("five", partitions: 5)
        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "more"
        topic.numPartitions = 1
        topic.replicationFactor = 1
        create.topics = [topic]
        let refused = try await harness.call(create, version: 5)
        XCTAssertEqual(refused?.topics.first?.errorCode, ErrorCode.policyViolation.rawValue)
        XCTAssertEqual(refused?.topics.first?.errorMessage, "Adding 1 partitions would put 7 partitions on broker 1, over its limit of 6 (configured).")

        var grow = CreatePartitionsRequest()
        var growTopic = CreatePartitionsRequest.CreatePartitionsTopic()
        growTopic.name = "five"
        growTopic.count = 6
        growTopic.assignments = nil
        grow.topics = [growTopic]
        let grown = try await harness.call(grow, version: 3)
        XCTAssertEqual(grown?.results.first?.errorCode, ErrorCode.policyViolation.rawValue)

        var metadata = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "auto"
        metadata.topics = [wanted]
        metadata.allowAutoTopicCreation = true
        let described = try await harness.call(metadata, version: 12)
        XCTAssertEqual(described?.topics.first?.errorCode, ErrorCode.policyViolation.rawValue)
    }
}
