import Foundation
import NIOCore
import RunnelCompression
@testable import RunnelGroups
@testable import RunnelLog
import RunnelMetadata
import RunnelRaft
@testable import RunnelRaftStorage
import RunnelRecords
import RunnelStorage
import RunnelWire

/// Writes a seed corpus per target under `directory/<target>/`. The request frames of real clients must
/// already be in `directory/requestDecoder` (tools/capture/split_frames.py over the golden captures);
/// record batches come from their produce requests, everything else from the project's own encoders fed
/// with those batches or with values like the tests'.
enum Seeds {
    static func write(to directory: String) throws {
        let frames = try files(in: directory + "/requestDecoder")
        guard !frames.isEmpty else { throw SeedError("no request frames in \(directory)/requestDecoder: run split_frames.py first") }
        var seeds: [String: [[UInt8]]] = [:]
        seeds["broker"] = frames

        let captured = frames.flatMap(producedBatches)
        guard !captured.isEmpty else { throw SeedError("the captured frames hold no produce request with records") }
        let built = builtBatches()
        let batches = captured + built
        seeds["recordBatchValidator"] = batches.map { [0] + $0 }
        seeds["recordBatchDecoding"] = batches.map { [0] + $0 }
        seeds["recordScanning"] = batches.map { [0] + $0 }
        seeds["decompression"] = compressed(captured)
        seeds["groupRecordCodec"] = groupRecords()
        seeds["metadataRecordCodec"] = metadataRecords()
        seeds["checkpointFiles"] = try checkpointFiles(batches)
        seeds["raftWAL"] = try walSegments()
        seeds["logRecovery"] = try logDirectories(batches)

        for (target, inputs) in seeds {
            let targetDirectory = directory + "/" + target
            try FileManager.default.createDirectory(atPath: targetDirectory, withIntermediateDirectories: true)
            for (index, input) in inputs.enumerated() {
                try Data(input).write(to: URL(fileURLWithPath: "\(targetDirectory)/seed-\(index)"))
            }
            print("\(target): \(inputs.count) seeds")
        }
    }

    struct SeedError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func files(in directory: String) throws -> [[UInt8]] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))
        }
    }

    /// The records fields of a captured produce request, one seed per batch.
    static func producedBatches(_ frame: [UInt8]) -> [[UInt8]] {
        guard let decoded = try? RequestFrame.decode(payload: ByteBuffer(bytes: frame)), case .produce(let request) = decoded.request else {
            return []
        }
        var batches: [[UInt8]] = []
        for topic in request.topicData {
            for partition in topic.partitionData {
                guard let records = partition.records else { continue }
                var iterator = RecordBatchIterator(records)
                while let entry = try? iterator.next() {
                    batches.append(entry.bytes.getBytes(at: entry.bytes.readerIndex, length: entry.bytes.readableBytes) ?? [])
                }
            }
        }
        return batches
    }

    /// Batches of every codec, with keys, null keys, tombstones and headers; an idempotent one; a control one.
    static func builtBatches() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for codec in CompressionCodec.allCases {
            var builder = RecordBatchBuilder(baseOffset: 0, codec: codec)
            builder.append(key: Array("k1".utf8), value: Array("value one".utf8), timestampMs: 1_700_000_000_000)
            builder.append(key: nil, value: Array(repeating: 7, count: 200), timestampMs: 1_700_000_000_001)
            builder.append(key: Array("k1".utf8), value: nil, headers: [RecordHeader(key: "h", value: [1, 2])], timestampMs: 1_700_000_000_002)
            if let batch = try? builder.build() { out.append(bytes(batch)) }
        }
        var idempotent = RecordBatchBuilder(producerId: 7, producerEpoch: 0, baseSequence: 0)
        idempotent.append(key: [1], value: [2], timestampMs: 1)
        if let batch = try? idempotent.build() { out.append(bytes(batch)) }
        var control = RecordBatchBuilder(isControl: true)
        control.append(key: [0, 0, 0, 0], value: [0, 0, 0, 0, 0, 0], timestampMs: 1)
        if let batch = try? control.build() { out.append(bytes(batch)) }
        return out
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] { buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? [] }

    /// A codec index byte (gzip, snappy, lz4, zstd) and compressed bytes: the compressed records of the
    /// captured batches, and the captured records recompressed with each codec.
    static func compressed(_ captured: [[UInt8]]) -> [[UInt8]] {
        let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
        var out: [[UInt8]] = []
        for batch in captured where batch.count > RecordBatchHeader.sizeBytes {
            let codec = CompressionCodec(attributeBits: Int16(batch[22]))  // the attributes' low byte
            let body = Array(batch[RecordBatchHeader.sizeBytes...])
            if let codec, let index = codecs.firstIndex(of: codec) { out.append([UInt8(index)] + body) }
            for (index, codec) in codecs.enumerated() {
                if let again = try? Compression.compress(body, codec: codec) { out.append([UInt8(index)] + again) }
            }
        }
        return out
    }

    static func groupRecords() -> [[UInt8]] {
        let tp = RunnelGroups.TopicPartition("orders", 3)
        let member = PersistedMember(memberID: "consumer-1-1", groupInstanceID: "i1", clientID: "consumer-1", clientHost: "/127.0.0.1",
                                     rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 45_000, subscription: [0, 1, 0, 0], assignment: [0, 1])
        let records: [GroupRecord] = [
            .offsetCommit(groupID: "g", tp, CommittedOffset(offset: 42, leaderEpoch: 3, metadata: "m", commitTimestampMs: 1_700_000_000_000)),
            .offsetCommit(groupID: "g", tp, CommittedOffset(offset: 1, commitTimestampMs: 5, expireTimestampMs: 9)),
            .offsetTombstone(groupID: "g", tp),
            .groupTombstone(groupID: "g"),
            .groupMetadata(groupID: "g", GroupMetadataValue(protocolType: "consumer", generationID: 4, protocolName: "range",
                                                          leaderID: "consumer-1-1", stateTimestampMs: 1_700_000_000_000, members: [member])),
            .groupMetadata(groupID: "empty", GroupMetadataValue(protocolType: nil, generationID: 0, protocolName: nil, leaderID: nil,
                                                              stateTimestampMs: 0, members: [])),
        ]
        return records.map { record in
            let (key, value) = record.encoded()
            return [value == nil ? 0 : 1, UInt8(key.count >> 8), UInt8(key.count & 0xFF)] + key + (value ?? [])
        }
    }

    static func metadataRecords() -> [[UInt8]] {
        let id = UUID128(high: 1, low: 1)
        let records: [MetadataRecord] = [
            .registerBroker(BrokerRegistration(id: 1, directoryID: UUID128(high: 9, low: 8),
                                               endpoints: [Endpoint(listener: "CLIENT", host: "h", port: 9092)], rack: "r1")),
            .topic(name: "t", id: id),
            .partition(PartitionRecord(topicID: id, partition: 3, replicas: [1, 2], isr: [2], leader: 2, leaderEpoch: 4, partitionEpoch: 5)),
            .partitionChange(PartitionChange(topicID: id, partition: 3, leader: nil, isr: [1, 2])),
            .removeTopic(id: id),
            .config(resource: ConfigResource(.topic, "t"), name: "retention.ms", value: "1000"),
            .config(resource: ConfigResource(.topic, "t"), name: "retention.ms", value: nil),
            .producerIdBlock(firstID: 4000, size: 1000),
        ]
        return records.map(MetadataRecordCodec.encode)
    }

    /// A kind byte and a file, for each kind `CodecTargets.checkpointFile` reads.
    static func checkpointFiles(_ batches: [[UInt8]]) throws -> [[UInt8]] {
        var producers = ProducerStateTable()
        for batch in batches {
            if let header = try? RecordBatchHeader(parsing: ByteBuffer(bytes: batch), at: 0) { producers.apply(header) }
        }
        let snapshot = PersistentState.bootstrap(voters: RecoveryTargets.voters).snapshot
        let identity = DirectoryIdentity(nodeID: NodeID(1), directoryID: DirectoryID(high: 0, low: 1))
        let fileSystem = SimulatedFileSystem()
        var random = SplitMix64(seed: 1)
        _ = try NodeIdentity.loadOrCreate(fileSystem: fileSystem, directory: "/data", nodeID: 1, clusterID: "fuzz-cluster", using: &random)
        let properties = try fileSystem.openFile("/data/meta.properties", options: []).readAll()
        return [
            [0] + CheckpointFile.encode(offset: 1234),
            [1] + CheckpointFile.encode(epochs: [EpochEntry(epoch: 0, startOffset: 0), EpochEntry(epoch: 3, startOffset: 17)]),
            [2] + ProducerSnapshotFile.encode(producers),
            [3] + SnapshotFile.encode(snapshot),
            [4] + identity.encoded(),
            [5] + properties,
        ]
    }

    /// Segments the WAL itself wrote: entries, hard states, a truncation, a snapshot checkpoint; as one
    /// segment and as two.
    static func walSegments() throws -> [[UInt8]] {
        let fileSystem = SimulatedFileSystem()
        try RaftWAL.format(fileSystem: fileSystem, path: "/n", identity: DirectoryIdentity(nodeID: RecoveryTargets.node, directoryID: RecoveryTargets.voters[0].directory),
                           initialState: .bootstrap(voters: RecoveryTargets.voters))
        let wal = try RaftWAL.open(fileSystem: fileSystem, path: "/n", nodeID: RecoveryTargets.node, options: RaftWALOptions(segmentBytesMax: 400))
        for index in 1...6 as ClosedRange<UInt64> {
            try wal.save(hardState: HardState(term: Term(1), vote: RecoveryTargets.node, commit: LogIndex(index - 1)),
                         entries: [Entry(term: Term(1), index: LogIndex(index), data: Array("entry \(index)".utf8))], snapshot: nil)
            try wal.sync()
        }
        try wal.save(hardState: HardState(term: Term(2), vote: nil, commit: LogIndex(4)),
                     entries: [Entry(term: Term(2), index: LogIndex(5), data: [9])], snapshot: nil)  // replaces 5 and 6
        try wal.sync()
        let segments = try fileSystem.contentsOfDirectory("/n").filter { RaftWAL.segmentSeq($0) != nil }.sorted()
            .map { try fileSystem.openFile("/n/" + $0, options: []).readAll() }
        var out: [[UInt8]] = [[0, 0, 0] + segments[0]]
        if segments.count > 1 {
            let split = min(segments[0].count, Int(UInt16.max))
            out.append([2, UInt8(split >> 8), UInt8(split & 0xFF)] + segments[0] + segments[1])
        }
        out.append([0, 0, 0] + segments.joined())
        return out
    }

    /// A log's segment as the log wrote it from the captured and built batches, with and without a
    /// recovery point and a clean-shutdown marker; and split in two segments.
    static func logDirectories(_ batches: [[UInt8]]) throws -> [[UInt8]] {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory("/data")
        let directory = "/data/t-0-000102030405060708090a0b0c0d0e0f"
        let log = try PartitionLog.open(directory: directory, fileSystem: fileSystem, syncScheduler: InlineSyncScheduler(),
                                        config: LogConfig(segmentBytesMax: 1 << 20, retentionMs: nil, indexIntervalBytes: 64), nowMs: 0)
        var firstSegmentBytes = 0
        for (index, batch) in batches.enumerated() {
            _ = try? log.appendAsLeader(ByteBuffer(bytes: batch), leaderEpoch: Int32(index / 4), nowMs: 0)
            if index == batches.count / 2 { firstSegmentBytes = Int(log.sizeBytes) }
        }
        let end = log.logEndOffset
        log.close()
        let segment = try fileSystem.openFile(directory + "/00000000000000000000.log", options: []).readAll()
        func input(flags: UInt8, recoveryPoint: Int64, split: Int = 0, secondBase: Int = 0) -> [UInt8] {
            var out = [flags]
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: recoveryPoint >> Int64(shift))) }
            out += [UInt8(truncatingIfNeeded: split >> 8), UInt8(truncatingIfNeeded: split), UInt8(truncatingIfNeeded: secondBase >> 8),
                    UInt8(truncatingIfNeeded: secondBase)]
            return out + segment
        }
        // Where the second half starts, in offsets, for a split that keeps the log consistent.
        var firstHalf = RecordBatchIterator(ByteBuffer(bytes: Array(segment.prefix(firstSegmentBytes))))
        let middle = (try? firstHalf.collect().last?.header.nextOffset) ?? nil
        return [
            input(flags: 0, recoveryPoint: 0),
            input(flags: 2, recoveryPoint: end),
            input(flags: 2, recoveryPoint: end / 2),
            input(flags: 4, recoveryPoint: 0),
            input(flags: 8 | 2, recoveryPoint: end, split: firstSegmentBytes, secondBase: Int(middle ?? 0)),
        ]
    }
}
