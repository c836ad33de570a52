@testable import RunnelLog
import XCTest

final class LeaderEpochCacheTests: XCTestCase {
    func testAssigningAnOlderStartRemovesConflictingEntries() {
        var cache = LeaderEpochCache(entries: [EpochEntry(epoch: 1, startOffset: 0), EpochEntry(epoch: 2, startOffset: 10)])
        XCTAssertFalse(cache.assign(epoch: 2, startOffset: 12))  // the latest epoch again, later: no change
        XCTAssertTrue(cache.assign(epoch: 3, startOffset: 5))
        XCTAssertEqual(cache.entries, [EpochEntry(epoch: 1, startOffset: 0), EpochEntry(epoch: 3, startOffset: 5)])
    }

    func testTruncatingFromTheStartMovesTheCoveringEpochToTheNewStart() {
        var cache = LeaderEpochCache(entries: [EpochEntry(epoch: 1, startOffset: 0), EpochEntry(epoch: 2, startOffset: 10),
                                               EpochEntry(epoch: 4, startOffset: 20)])
        XCTAssertTrue(cache.truncateFromStart(startOffset: 15))
        XCTAssertEqual(cache.entries, [EpochEntry(epoch: 2, startOffset: 15), EpochEntry(epoch: 4, startOffset: 20)])
        XCTAssertFalse(cache.truncateFromStart(startOffset: 15))
        XCTAssertTrue(cache.truncateFromEnd(endOffset: 20))
        XCTAssertEqual(cache.entries, [EpochEntry(epoch: 2, startOffset: 15)])
    }
}

final class CheckpointFileTests: XCTestCase {
    func testCheckpointsRoundTripAndRejectDamage() {
        let bytes = CheckpointFile.encode(offset: 123_456_789)
        XCTAssertEqual(CheckpointFile.decodeOffset(bytes), 123_456_789)
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x40
            XCTAssertNil(CheckpointFile.decodeOffset(damaged), "byte \(i)")
        }
        XCTAssertNil(CheckpointFile.decodeOffset(Array(bytes.dropLast())))
        XCTAssertNil(CheckpointFile.decodeEpochs(bytes))  // a different kind

        let epochs = [EpochEntry(epoch: 0, startOffset: 0), EpochEntry(epoch: 5, startOffset: 77)]
        XCTAssertEqual(CheckpointFile.decodeEpochs(CheckpointFile.encode(epochs: epochs)), epochs)
        XCTAssertEqual(CheckpointFile.decodeEpochs(CheckpointFile.encode(epochs: [])), [])
    }
}

final class RetentionPlanTests: XCTestCase {
    private let segments = [
        SegmentSummary(baseOffset: 0, nextSegmentBaseOffset: 10, sizeBytes: 100, maxTimestamp: 1_000),
        SegmentSummary(baseOffset: 10, nextSegmentBaseOffset: 20, sizeBytes: 100, maxTimestamp: 5_000),
        SegmentSummary(baseOffset: 20, nextSegmentBaseOffset: 30, sizeBytes: 100, maxTimestamp: 2_000),
    ]

    func testTimeRetentionStopsAtTheFirstSegmentStillInRetention() {
        let config = LogConfig(retentionMs: 2_500)
        // Segment 20..30 is old too, but deletion takes a prefix: 10..20 is still within retention.
        XCTAssertEqual(RetentionPlan.deletableCount(inactive: segments, activeSizeBytes: 0, highWatermark: 100,
                                                    logStartOffset: 0, config: config, nowMs: 6_000), 1)
    }

    func testNothingAtOrAboveTheHighWatermarkIsDeleted() {
        let config = LogConfig(retentionMs: 1, retentionBytes: 0)
        XCTAssertEqual(RetentionPlan.deletableCount(inactive: segments, activeSizeBytes: 50, highWatermark: 19,
                                                    logStartOffset: 0, config: config, nowMs: 1_000_000), 1)
    }

    func testExtremeClientTimestampsDoNotOverflowTheAge() {
        let config = LogConfig(retentionMs: 1_000)
        let ancient = [SegmentSummary(baseOffset: 0, nextSegmentBaseOffset: 10, sizeBytes: 1, maxTimestamp: Int64.min)]
        XCTAssertEqual(RetentionPlan.deletableCount(inactive: ancient, activeSizeBytes: 0, highWatermark: 100,
                                                    logStartOffset: 0, config: config, nowMs: 5_000), 1)
        let future = [SegmentSummary(baseOffset: 0, nextSegmentBaseOffset: 10, sizeBytes: 1, maxTimestamp: Int64.max)]
        XCTAssertEqual(RetentionPlan.deletableCount(inactive: future, activeSizeBytes: 0, highWatermark: 100,
                                                    logStartOffset: 0, config: config, nowMs: -5_000), 0)
    }

    func testSegmentsBelowTheLogStartOffsetGoEvenWithoutRetention() {
        let config = LogConfig(retentionMs: nil, retentionBytes: nil)
        XCTAssertEqual(RetentionPlan.deletableCount(inactive: segments, activeSizeBytes: 0, highWatermark: 100,
                                                    logStartOffset: 25, config: config, nowMs: 0), 2)
    }
}

final class PartitionDirectoryTests: XCTestCase {
    func testNamesRoundTripEvenWithDashesInTheTopic() {
        let id = TopicUUID(high: 0x0011_2233_4455_6677, low: 0x8899_aabb_ccdd_eeff)
        let directory = PartitionDirectory(topic: "my-topic.v2", partition: 12, topicID: id)
        XCTAssertEqual(directory.name, "my-topic.v2-12")
        XCTAssertEqual(PartitionDirectory.parse(directory.name)?.topic, "my-topic.v2")
        XCTAssertEqual(PartitionDirectory.parse(directory.name)?.partition, 12)
        XCTAssertEqual(directory.legacyName, "my-topic.v2-12-00112233445566778899aabbccddeeff")
        XCTAssertEqual(PartitionDirectory(legacyName: directory.legacyName), directory)
        XCTAssertNil(PartitionDirectory.parse("-3"))
        XCTAssertNil(PartitionDirectory.parse("t-x"))
        XCTAssertEqual(PartitionDirectory.parse("t--1")?.topic, "t-")
    }
}
