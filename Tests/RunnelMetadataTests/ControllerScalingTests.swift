import RunnelMetadata
import RunnelStorage
import XCTest

/// Decisions stay linear in what they decide: a check per new topic must not scan every topic there is.
final class ControllerScalingTests: XCTestCase {
    func testTheCollisionCheckDoesNotScanEveryExistingTopic() throws {
        var generator = SplitMix64(seed: 7)
        let controller = Controller()
        var image = MetadataImage()
        let existing = 10_000
        for i in 0..<existing { image.apply(.topic(name: "topic.\(i)", id: UUID128(high: UInt64(i + 1), low: 1))) }
        let start = ContinuousClock.now
        for i in 0..<existing {
            _ = try controller.createTopic(TopicSpec(name: "new-\(i)"), in: image, liveBrokers: [1], using: &generator)
        }
        // Linear: well under a second; scanning every topic per new one takes minutes in a debug build.
        XCTAssertLessThan(start.duration(to: .now), .seconds(15))
        XCTAssertThrowsError(try controller.createTopic(TopicSpec(name: "topic_17"), in: image, liveBrokers: [1], using: &generator)) { error in
            XCTAssertEqual((error as? MetadataError)?.message, "Topic 'topic_17' collides with existing topic: topic.17")
        }
    }
}
