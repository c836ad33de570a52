import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

/// Valid v2 batches for the log tests, built with RunnelRecords.
enum TestBatches {
    /// One batch of `records` records; each value is `valueBytes` bytes, timestamps `timestampMs`, +1, …
    static func make(baseOffset: Int64 = 0, records: Int = 1, timestampMs: Int64 = 1_000, valueBytes: Int = 20,
                     epoch: Int32 = 0) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseOffset: baseOffset, partitionLeaderEpoch: epoch)
        for i in 0..<records {
            builder.append(key: nil, value: [UInt8](repeating: UInt8(truncatingIfNeeded: Int(baseOffset) + i), count: valueBytes),
                           timestampMs: timestampMs + Int64(i))
        }
        return try! builder.build()  // test input we built ourselves; compression is .none
    }

    static func concat(_ buffers: [ByteBuffer]) -> ByteBuffer {
        var all = ByteBuffer()
        for var buffer in buffers { all.writeBuffer(&buffer) }
        return all
    }

    /// Headers of the batches in `buffer`, checking each CRC.
    static func headers(_ buffer: ByteBuffer) throws -> [RecordBatchHeader] {
        var iterator = RecordBatchIterator(buffer, verifyingChecksums: true)
        let entries = try iterator.collect()
        XCTAssertEqual(iterator.trailingBytes, 0, "partial batch in read result")
        return entries.map(\.header)
    }
}

/// A partition directory on a simulated disk with a manual sync scheduler.
final class LogFixture {
    let fileSystem: SimulatedFileSystem
    /// Replaced by `crash`: a real crash takes the process, and its fsync queue, with it.
    private(set) var scheduler = ManualSyncScheduler()
    let directory = "/data/orders-0-000102030405060708090a0b0c0d0e0f"
    var config: LogConfig

    init(config: LogConfig = LogConfig(segmentBytesMax: 1 << 20, retentionMs: nil), fileSystem: SimulatedFileSystem = SimulatedFileSystem()) throws {
        self.config = config
        self.fileSystem = fileSystem
        try fileSystem.createDirectory("/data")
        try fileSystem.syncDirectory("/")
    }

    /// Power loss: the disk forgets what the tear says, and requests queued before it are gone.
    func crash(_ tear: SimulatedFileSystem.Tear = .dropUnsynced) {
        fileSystem.crash(tear)
        scheduler = ManualSyncScheduler()
    }

    func open(nowMs: Int64 = 0) throws -> PartitionLog {
        try PartitionLog.open(directory: directory, fileSystem: fileSystem, syncScheduler: scheduler, config: config, nowMs: nowMs)
    }

    func segmentPath(_ baseOffset: Int64, _ suffix: String = ".log") -> String {
        let digits = String(baseOffset)
        return directory + "/" + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    /// Reads every batch from the log start to `limit` (default: the log end) by repeated reads.
    func readAll(_ log: PartitionLog, upTo limit: Int64? = nil) throws -> [RecordBatchHeader] {
        var headers: [RecordBatchHeader] = []
        var offset = log.logStartOffset
        let end = limit ?? log.logEndOffset
        var reads = 0
        while offset < end {
            reads += 1
            precondition(reads < 100_000)
            let result = try log.read(from: offset, maxBytes: 1 << 20, upTo: end)
            let batch = try TestBatches.headers(result.records)
            guard let last = batch.last else { break }
            headers += batch
            offset = last.nextOffset
        }
        return headers
    }

    /// Appends as leader and runs a sync pass so the append is durable.
    @discardableResult
    func appendDurably(_ log: PartitionLog, _ batch: ByteBuffer, epoch: Int32 = 0, nowMs: Int64 = 0) throws -> LogAppendInfo {
        let info = try log.appendAsLeader(batch, leaderEpoch: epoch, nowMs: nowMs)
        scheduler.runPass()
        return info
    }
}
