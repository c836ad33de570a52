import NIOCore
import RunnelCompression
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

/// One keyed update for the compaction tests; a nil value is a tombstone.
struct KeyedUpdate: Equatable {
    var key: String
    var value: String?
}

/// Keyed batches and whole-log record reads for the compaction tests.
enum Keyed {
    static func batch(_ updates: [KeyedUpdate], baseOffset: Int64 = 0, timestampMs: Int64 = 1_000, codec: CompressionCodec = .none,
                      producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1) -> ByteBuffer {
        var builder = RecordBatchBuilder(baseOffset: baseOffset, codec: codec, producerId: producerId,
                                         producerEpoch: producerEpoch, baseSequence: baseSequence)
        for update in updates {
            builder.append(key: Array(update.key.utf8), value: update.value.map { Array($0.utf8) }, timestampMs: timestampMs)
        }
        return try! builder.build()  // our own input; the codecs are linked in
    }

    /// Every record from the log start to the log end, by repeated reads (offset gaps included).
    static func records(_ log: PartitionLog) throws -> [Record] {
        var records: [Record] = []
        var offset = log.logStartOffset
        var reads = 0
        while offset < log.logEndOffset {
            reads += 1
            precondition(reads < 100_000)
            let result = try log.read(from: offset, maxBytes: 1 << 20, upTo: log.logEndOffset)
            let batches = try RecordBatch.decodeAll(in: result.records, maxUncompressedBytes: 1 << 24)
            guard let last = batches.last else { break }
            for batch in batches { records += batch.records }
            offset = last.header.nextOffset
        }
        return records
    }

    /// key → (offset, value) of the latest record per key.
    static func latest(_ records: [Record]) -> [String: (offset: Int64, value: String?)] {
        var latest: [String: (offset: Int64, value: String?)] = [:]
        for record in records {
            guard let key = record.key else { continue }
            latest[String(decoding: key, as: UTF8.self)] = (record.offset, record.value.map { String(decoding: $0, as: UTF8.self) })
        }
        return latest
    }

    /// Fails unless `after` keeps, for every key, the latest record of `before` at the same offset, and
    /// every record of `after` is the record of `before` at its offset.
    static func assertCompacted(_ after: [Record], from before: [Record], file: StaticString = #filePath, line: UInt = #line,
                                _ message: String = "") {
        let original = Dictionary(before.map { ($0.offset, $0) }, uniquingKeysWith: { a, _ in a })
        for record in after {
            XCTAssertEqual(original[record.offset], record, "record at \(record.offset) changed \(message)", file: file, line: line)
        }
        let expected = latest(before)
        let actual = latest(after)
        for (key, value) in expected where value.value != nil {
            XCTAssertEqual(actual[key]?.offset, value.offset, "key \(key) \(message)", file: file, line: line)
            XCTAssertEqual(actual[key]?.value, value.value, "key \(key) \(message)", file: file, line: line)
        }
        for (key, value) in actual {
            XCTAssertEqual(expected[key]?.offset, value.offset, "key \(key) latest moved \(message)", file: file, line: line)
        }
    }
}

extension LogFixture {
    /// Appends, syncs and moves the high watermark to the end.
    func appendCommitted(_ log: PartitionLog, _ batch: ByteBuffer, nowMs: Int64 = 0) throws {
        try log.appendAsLeader(batch, leaderEpoch: 0, nowMs: nowMs)
        scheduler.runPass()
        log.updateHighWatermark(log.flushedOffset)
    }
}
