import RunnelMetadata
import RunnelStorage
import XCTest

final class TopicLimitsTests: XCTestCase {
    func testCreatesPastTheLimitsAreRefusedBeforeAnythingIsCommittedAndDeletesFreeRoom() throws {
        var generator = SplitMix64(seed: 11)
        let controller = Controller(limits: TopicLimits(partitionsPerBrokerMax: 10, topicsMax: 3, reason: "test"))
        var image = MetadataImage()
        try controller.createTopic(TopicSpec(name: "a", partitions: 6), in: image, liveBrokers: [1], using: &generator).forEach { image.apply($0) }
        XCTAssertEqual(image.replicaCount(on: 1), 6)
        XCTAssertThrowsError(try controller.createTopic(TopicSpec(name: "b", partitions: 5), in: image, liveBrokers: [1], using: &generator)) { error in
            XCTAssertEqual(error as? MetadataError,
                           .policyViolation("Adding 5 partitions would put 11 partitions on broker 1, over its limit of 10 (test)."))
        }
        XCTAssertThrowsError(try controller.createPartitions(topic: "a", totalCount: 11, assignments: nil, in: image, liveBrokers: [1]))
        try controller.createPartitions(topic: "a", totalCount: 8, assignments: nil, in: image, liveBrokers: [1]).forEach { image.apply($0) }
        XCTAssertEqual(image.replicaCount(on: 1), 8)
        for name in ["b", "c"] {
            try controller.createTopic(TopicSpec(name: name), in: image, liveBrokers: [1], using: &generator).forEach { image.apply($0) }
        }
        XCTAssertThrowsError(try controller.createTopic(TopicSpec(name: "d"), in: image, liveBrokers: [1], using: &generator)) { error in
            XCTAssertEqual(error as? MetadataError, .policyViolation("The cluster holds 3 topics; the limit is 3 (test)."))
        }
        try controller.deleteTopic(named: "a", in: image).forEach { image.apply($0) }
        XCTAssertEqual(image.replicaCount(on: 1), 2)
        try controller.createTopic(TopicSpec(name: "d", partitions: 8), in: image, liveBrokers: [1], using: &generator).forEach { image.apply($0) }
        XCTAssertEqual(image.replicaCount(on: 1), 10)
        var rebuilt = MetadataImage()
        image.snapshotRecords.forEach { rebuilt.apply($0) }
        XCTAssertEqual(rebuilt.replicaCounts, image.replicaCounts, "counts follow from the records")
    }
}
