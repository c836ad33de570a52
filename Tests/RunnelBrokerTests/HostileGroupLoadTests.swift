import NIOCore
@testable import RunnelGroups
import RunnelRecords
import RunnelStorage
import RunnelWire
import XCTest

@testable import RunnelBroker

/// `__consumer_offsets` holding what the coordinator did not write itself (issue 12): the broker still
/// starts on that data directory, loads what it can read, and a loaded value at the edge of its type
/// does not trap the next event.
final class HostileGroupLoadTests: XCTestCase {
    /// One v2 batch (base offset 0, CRC set) with one record whose body ends after its value: no header
    /// count, as a hostile producer can send it.
    static func batchWithARecordWithoutHeaderCount(key: [UInt8], value: [UInt8]) throws -> ByteBuffer {
        func zigzag(_ value: Int) -> [UInt8] {
            var v = UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))
            var bytes: [UInt8] = []
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            return bytes + [UInt8(v)]
        }
        let body: [UInt8] = [0] + zigzag(0) + zigzag(0) + zigzag(key.count) + key + zigzag(value.count) + value
        let record = zigzag(body.count) + body
        var buffer = ByteBuffer()
        buffer.writeInteger(Int64(0))  // base offset
        buffer.writeInteger(Int32(RecordBatchHeader.sizeBytes - 12 + record.count))  // batch length
        buffer.writeInteger(Int32(0))  // partition leader epoch
        buffer.writeInteger(Int8(2))  // magic
        buffer.writeInteger(UInt32(0))  // CRC, set below
        buffer.writeInteger(Int16(0))  // attributes
        buffer.writeInteger(Int32(0))  // last offset delta
        buffer.writeInteger(Int64(1_700_000_000_000))  // base timestamp
        buffer.writeInteger(Int64(1_700_000_000_000))  // max timestamp
        buffer.writeInteger(Int64(-1))  // producer id
        buffer.writeInteger(Int16(-1))  // producer epoch
        buffer.writeInteger(Int32(-1))  // base sequence
        buffer.writeInteger(Int32(1))  // record count
        buffer.writeBytes(record)
        let header = try RecordBatchHeader(parsing: buffer)
        buffer.setInteger(try header.computeChecksum(in: buffer, at: 0), at: 17)
        return buffer
    }

    /// Appends raw batches to the offsets partition and waits until they are durable.
    static func appendToOffsetsTopic(_ harness: BrokerHarness, _ batches: ByteBuffer) async throws {
        let partition = try XCTUnwrap(harness.broker.partitions.partition(OffsetsTopic.partition))
        let info = try partition.appendAsLeader(batches, nowMs: harness.clock.nowMs)
        let error = await harness.broker.waitForHighWatermark(partition, atLeast: info.lastOffset + 1, timeoutMs: 10_000)
        XCTAssertNil(error)
    }

    static func fetchOffsets(_ harness: BrokerHarness, group: String) async throws -> [Int64] {
        var fetch = OffsetFetchRequest()
        fetch.groupId = group
        fetch.topics = nil
        let fetched = try await harness.call(fetch, version: 7)
        XCTAssertEqual(fetched?.errorCode, 0)
        return (fetched?.topics.flatMap(\.partitions) ?? []).map(\.committedOffset)
    }

    /// Item 3 (the loader): before, every start exited with `malformed records: header count`.
    func testAnUnreadableRecordInTheOffsetsTopicIsSkippedAndTheRestLoads() async throws {
        let fileSystem = SimulatedFileSystem()
        let first = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        let pump = first.pumpSyncs()
        let before = try await first.call(
            GroupTests.commitRequest(group: "before", generation: -1, memberID: "", topic: "t", offsets: [0: 41]), version: 8)
        XCTAssertEqual(before?.topics.first?.partitions.first?.errorCode, 0)
        // A group record's key, so only the missing header count makes it unreadable.
        let key = GroupRecord.offsetCommit(groupID: "lost", RunnelGroups.TopicPartition("t", 0), CommittedOffset(offset: 1, commitTimestampMs: 0))
            .encoded()
        try await Self.appendToOffsetsTopic(first, try Self.batchWithARecordWithoutHeaderCount(key: key.key, value: key.value ?? []))
        // A readable record that is no group record (no key) is skipped too.
        var keyless = RecordBatchBuilder()
        keyless.append(key: nil, value: [1, 2, 3], timestampMs: 1_700_000_000_000)
        try await Self.appendToOffsetsTopic(first, try keyless.build())
        let after = try await first.call(
            GroupTests.commitRequest(group: "after", generation: -1, memberID: "", topic: "t", offsets: [0: 43]), version: 8)
        XCTAssertEqual(after?.topics.first?.partitions.first?.errorCode, 0)
        pump.cancel()
        _ = await pump.value
        fileSystem.crash()

        let second = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        let secondPump = second.pumpSyncs()
        defer { secondPump.cancel() }
        let loadedBefore = try await Self.fetchOffsets(second, group: "before")
        let loadedAfter = try await Self.fetchOffsets(second, group: "after")
        let lost = try await Self.fetchOffsets(second, group: "lost")
        XCTAssertEqual(loadedBefore, [41], "records before the unreadable one load")
        XCTAssertEqual(loadedAfter, [43], "records after the unreadable one load")
        XCTAssertEqual(lost, [], "the unreadable record is skipped")
        let again = try await second.call(
            GroupTests.commitRequest(group: "before", generation: -1, memberID: "", topic: "t", offsets: [0: 45]), version: 8)
        XCTAssertEqual(again?.topics.first?.partitions.first?.errorCode, 0, "the coordinator serves")
    }

    /// The scan behind the loader counts what it skips and lists it with offsets, for the log.
    func testTheScanCountsAndListsUnreadableRecordsWithTheirOffsets() throws {
        func at(_ baseOffset: Int64, _ batch: ByteBuffer) -> ByteBuffer {
            var batch = batch
            batch.setInteger(baseOffset, at: batch.readerIndex)  // outside the CRC, as the log stamps it
            return batch
        }
        let good = GroupRecord.offsetCommit(groupID: "g", RunnelGroups.TopicPartition("t", 0), CommittedOffset(offset: 9, commitTimestampMs: 5))
        var goodBatch = RecordBatchBuilder()
        let (goodKey, goodValue) = good.encoded()
        goodBatch.append(key: goodKey, value: goodValue, timestampMs: 1_700_000_000_000)
        var mixed = RecordBatchBuilder()
        mixed.append(key: nil, value: [1], timestampMs: 1_700_000_000_000)
        mixed.append(key: [0, 9], value: [1], timestampMs: 1_700_000_000_000)  // key version 9: not a group record
        mixed.append(key: goodKey, value: goodValue, timestampMs: 1_700_000_000_000)
        var buffer = ByteBuffer()
        buffer.writeImmutableBuffer(at(10, try goodBatch.build()))
        buffer.writeImmutableBuffer(at(11, try Self.batchWithARecordWithoutHeaderCount(key: goodKey, value: goodValue ?? [])))
        buffer.writeImmutableBuffer(at(12, try mixed.build()))

        var scan = GroupRecordScan()
        XCTAssertEqual(try scan.scan(buffer, from: 10), 15)
        XCTAssertEqual(scan.records, [good, good])
        XCTAssertEqual(scan.unreadableCount, 3)
        XCTAssertEqual(scan.unreadable.map(\.offsets), [11...11, 12...12, 13...13])
        XCTAssertTrue(scan.unreadable[0].reason.contains("header count"), scan.unreadable[0].reason)

        var later = GroupRecordScan()
        XCTAssertEqual(try later.scan(buffer, from: 14), 15, "a read starts at the batch holding the offset")
        XCTAssertEqual(later.records, [good])
        XCTAssertEqual(later.unreadableCount, 0, "records before the offset are not read again")
    }

    /// Item 2: a GroupMetadata record with generation Int32.max; the next rebalance wraps it as Kafka's
    /// Java int does, instead of trapping on `generationID += 1` in the broker's tick.
    func testALoadedGenerationOfInt32MaxWrapsOnTheNextJoin() async throws {
        let fileSystem = SimulatedFileSystem()
        let first = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        let pump = first.pumpSyncs()
        let partition = try XCTUnwrap(first.broker.partitions.partition(OffsetsTopic.partition))
        let metadata = GroupMetadataValue(
            protocolType: "consumer", generationID: Int32.max, protocolName: nil, leaderID: nil,
            stateTimestampMs: first.clock.nowMs, members: [])
        let end = try Broker.appendGroupRecords([.groupMetadata(groupID: "g", metadata)], to: partition, nowMs: first.clock.nowMs)
        let error = await first.broker.waitForHighWatermark(partition, atLeast: end, timeoutMs: 10_000)
        XCTAssertNil(error)
        pump.cancel()
        _ = await pump.value
        fileSystem.crash()

        let second = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        let secondPump = second.pumpSyncs()
        defer { secondPump.cancel() }
        let required = try await second.call(GroupTests.joinRequest(group: "g"), version: 5)
        XCTAssertEqual(required?.errorCode, ErrorCode.memberIdRequired.rawValue)
        let memberID = try XCTUnwrap(required?.memberId)
        let joined = try await second.call(GroupTests.joinRequest(group: "g", memberID: memberID), version: 5)
        XCTAssertEqual(joined?.errorCode, 0)
        let generation = try XCTUnwrap(joined?.generationId)
        XCTAssertEqual(generation, Int32.min)
        var sync = SyncGroupRequest()
        sync.groupId = "g"
        sync.generationId = generation
        sync.memberId = memberID
        var assignment = SyncGroupRequest.SyncGroupRequestAssignment()
        assignment.memberId = memberID
        assignment.assignment = [7]
        sync.assignments = [assignment]
        let synced = try await second.call(sync, version: 3)
        XCTAssertEqual(synced?.errorCode, 0)
        XCTAssertEqual(synced?.assignment, [7])
        var heartbeat = HeartbeatRequest()
        heartbeat.groupId = "g"
        heartbeat.generationId = generation
        heartbeat.memberId = memberID
        let beat = try await second.call(heartbeat, version: 3)
        XCTAssertEqual(beat?.errorCode, 0)
    }
}
