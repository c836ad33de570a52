@testable import RunnelLog
import RunnelStorage
import XCTest

/// The pure parts of compaction: which range a pass cleans, how segments are grouped, which records
/// stay, the offset map's bounds and the swap file names.
final class CleaningPlanTests: XCTestCase {
    private func segments(_ sizes: [Int64], every: Int64 = 10, maxTimestamp: Int64 = 1_000) -> [SegmentSummary] {
        sizes.enumerated().map { i, size in
            SegmentSummary(baseOffset: Int64(i) * every, nextSegmentBaseOffset: Int64(i + 1) * every, sizeBytes: size, maxTimestamp: maxTimestamp)
        }
    }

    private let compact = LogConfig(retentionMs: nil, cleanupPolicy: .compact)

    func testCleanableRangeStopsAtTheHighWatermarkAndTheCompactionLag() {
        let inactive = segments([100, 100, 100, 100])
        var range = CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: nil, logStartOffset: 0,
                                                highWatermark: 25, config: compact, nowMs: 5_000)
        XCTAssertEqual(range?.firstUncleanableOffset, 20, "the segment reaching past the HW is not cleaned")
        var lagged = compact
        lagged.minCompactionLagMs = 10_000
        XCTAssertNil(CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: nil, logStartOffset: 0,
                                                 highWatermark: 40, config: lagged, nowMs: 5_000), "every segment is too young")
        range = CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: nil, logStartOffset: 0,
                                            highWatermark: 40, config: lagged, nowMs: 20_000)
        XCTAssertEqual(range?.firstUncleanableOffset, 40)
    }

    func testDirtyRatioDecidesWhetherAPassRuns() {
        let inactive = segments([100, 100, 100, 100])
        var config = compact
        config.minCleanableDirtyRatio = 0.5
        let half = CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: 20, logStartOffset: 0,
                                               highWatermark: 40, config: config, nowMs: 0)
        XCTAssertEqual(half, CleanableRange(firstDirtyOffset: 20, firstUncleanableOffset: 40, cleanBytes: 200, dirtyBytes: 200))
        XCTAssertNil(CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: 30, logStartOffset: 0,
                                                 highWatermark: 40, config: config, nowMs: 0), "a quarter dirty is below 0.5")
        config.cleanupPolicy = .delete
        XCTAssertNil(CleaningPlan.cleanableRange(inactive: inactive, activeBaseOffset: 40, checkpoint: nil, logStartOffset: 0,
                                                 highWatermark: 40, config: config, nowMs: 0))
    }

    func testGroupsStayWithinTheSegmentSizeAndEndAtTheMapEnd() {
        let inactive = segments([300, 300, 500, 100, 100, 700])
        XCTAssertEqual(CleaningPlan.groups(inactive, mapEndOffset: 60, segmentBytesMax: 700), [0..<2, 2..<5, 5..<6])
        XCTAssertEqual(CleaningPlan.groups(inactive, mapEndOffset: 21, segmentBytesMax: 700), [0..<2, 2..<3])
        let wide = segments([10, 10], every: Int64(UInt32.max))
        XCTAssertEqual(CleaningPlan.groups(wide, mapEndOffset: Int64.max, segmentBytesMax: 1_000), [0..<1, 1..<2],
                       "relative offsets must fit in uint32")
    }

    func testRetentionRulesForRecords() {
        let rules = CompactionRules(firstDirtyOffset: 50, mapEndOffset: 100, nowMs: 10_000, deleteRetentionMs: 1_000)
        func record(_ offset: Int64, key: String? = "k", tombstone: Bool = false) -> ScannedRecord {
            ScannedRecord(offset: offset, key: key.map { Array($0.utf8) }, isTombstone: tombstone, bytes: 0..<1)
        }
        XCTAssertFalse(CleaningPlan.retains(record(10), batchMaxTimestampMs: 9_900, latestOffset: 60, rules: rules), "superseded")
        XCTAssertTrue(CleaningPlan.retains(record(60), batchMaxTimestampMs: 9_900, latestOffset: 60, rules: rules), "latest")
        XCTAssertTrue(CleaningPlan.retains(record(10), batchMaxTimestampMs: 0, latestOffset: nil, rules: rules), "key not in map")
        XCTAssertTrue(CleaningPlan.retains(record(10, key: nil), batchMaxTimestampMs: 0, latestOffset: nil, rules: rules), "no key")
        XCTAssertTrue(CleaningPlan.retains(record(120), batchMaxTimestampMs: 0, latestOffset: 60, rules: rules), "past the map's end")
        XCTAssertTrue(CleaningPlan.retains(record(60, tombstone: true), batchMaxTimestampMs: 0, latestOffset: 60, rules: rules),
                      "a tombstone seen for the first time stays, whatever its age")
        XCTAssertTrue(CleaningPlan.retains(record(10, tombstone: true), batchMaxTimestampMs: 9_500, latestOffset: nil, rules: rules),
                      "a compacted tombstone younger than delete.retention.ms stays")
        XCTAssertFalse(CleaningPlan.retains(record(10, tombstone: true), batchMaxTimestampMs: 8_000, latestOffset: nil, rules: rules),
                       "an older compacted tombstone goes")
    }

    func testOffsetMapBoundsEntriesAndBytes() {
        var map = OffsetMap(entriesMax: 2, bytesMax: 1_000)
        XCTAssertTrue(map.hasRoom(keys: 2, keyBytes: 10))
        map.put([1], offset: 1)
        map.put([1], offset: 5)  // an update takes no new room
        map.put([2], offset: 6)
        XCTAssertEqual(map.count, 2)
        XCTAssertFalse(map.hasRoom(keys: 1, keyBytes: 1))
        XCTAssertEqual(map.latestOffset(for: [1]), 5)
        let small = OffsetMap(entriesMax: 100, bytesMax: OffsetMap.entryOverheadBytes + 4)
        XCTAssertTrue(small.hasRoom(keys: 1, keyBytes: 4))
        XCTAssertFalse(small.hasRoom(keys: 1, keyBytes: 5))
    }

    func testCleanupPolicyParsesKafkasValues() {
        XCTAssertEqual(CleanupPolicy(configValue: "delete"), .delete)
        XCTAssertEqual(CleanupPolicy(configValue: "compact"), .compact)
        XCTAssertEqual(CleanupPolicy(configValue: "compact, delete"), [.compact, .delete])
        XCTAssertNil(CleanupPolicy(configValue: "shred"))
        XCTAssertNil(CleanupPolicy(configValue: ""))
    }

    func testSwapNamesCarryTheReplacedRange() {
        let path = SegmentSwap.swapPath("/d", baseOffset: 7, endOffset: 42)
        XCTAssertEqual(path, "/d/00000000000000000007-00000000000000000042.swap")
        XCTAssertEqual(SegmentSwap.range(fromName: Path.name(of: path)).map { [$0.baseOffset, $0.endOffset] }, [7, 42])
        XCTAssertNil(SegmentSwap.range(fromName: "00000000000000000007.log"))
        XCTAssertNil(SegmentSwap.range(fromName: "00000000000000000042-00000000000000000007.swap"))
    }
}
