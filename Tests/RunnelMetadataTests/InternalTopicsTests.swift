import RunnelMetadata
import RunnelStorage
import XCTest

final class InternalTopicsTests: XCTestCase {
    func testTheMetadataLogNameIsNeverATopicAndTheOffsetsTopicIsNeverDeleted() throws {
        var generator = SplitMix64(seed: 3)
        let controller = Controller()
        var image = MetadataImage()
        XCTAssertThrowsError(try controller.createTopic(TopicSpec(name: "__meta"), in: image, liveBrokers: [1], using: &generator)) { error in
            XCTAssertEqual(error as? MetadataError, .invalidRequest("Creation of internal topic __meta is prohibited."))
        }
        try controller.createTopic(TopicSpec(name: InternalTopics.offsets), in: image, liveBrokers: [1], using: &generator)
            .forEach { image.apply($0) }
        XCTAssertThrowsError(try controller.deleteTopic(named: InternalTopics.offsets, in: image)) { error in
            XCTAssertEqual(error as? MetadataError, .invalidTopic("Cannot delete internal topic __consumer_offsets"))
        }
        XCTAssertTrue(InternalTopics.isInternal("__consumer_offsets"))
        XCTAssertFalse(InternalTopics.isInternal("__meta"), "not a topic at all, so not an internal one")
    }
}
