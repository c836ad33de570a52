import Foundation
import NIOCore
import RunnelLog
import RunnelRecords
import RunnelStorage
import XCTest

/// Seeded runs of appends, syncs, checkpoints, truncations, retention, DeleteRecords and crashes with torn
/// writes, checked against a model after every crash. Any failure replays from its seed.
final class RandomizedLogTests: XCTestCase {
    /// Set LOG_TRACE=1 to print every step; widen the seed range to search (400+ seeds passed once).
    func testRandomOperationsAndCrashesKeepTheLogConsistentWithTheModel() throws {
        for seed in UInt64(1)...30 { try run(seed: seed, operations: 300) }
    }

    private func run(seed: UInt64, operations: Int) throws {
        var random = SplitMix64(seed: seed)
        let fixture = try LogFixture(config: LogConfig(segmentBytesMax: 500, retentionMs: 50_000, retentionBytes: 3_000,
                                                       indexIntervalBytes: 130))
        var log = try fixture.open()
        var model: [Int64: ByteBuffer] = [:]  // base offset → the batch as appended
        var epoch: Int32 = 0
        var nowMs: Int64 = 0
        var deletedBefore: Int64 = 0
        var stamp = 0

        func check(_ context: String) throws {
            let offsets = log.offsets
            XCTAssertLessThanOrEqual(offsets.logStartOffset, offsets.highWatermark, context)
            XCTAssertLessThanOrEqual(offsets.highWatermark, offsets.flushedOffset, context)
            XCTAssertLessThanOrEqual(offsets.flushedOffset, offsets.logEndOffset, context)
            XCTAssertGreaterThanOrEqual(offsets.logStartOffset, deletedBefore, context)
            var offset = offsets.logStartOffset
            while offset < offsets.logEndOffset {
                let result = try log.read(from: offset, maxBytes: 700, upTo: offsets.logEndOffset)
                var iterator = RecordBatchIterator(result.records, verifyingChecksums: true)
                let entries = try iterator.collect()
                guard !entries.isEmpty else {
                    // Only an empty last segment (a follower's roll at a gap whose batch a crash took) may
                    // leave offsets below the log end without data; then nothing of the model lies there.
                    XCTAssertEqual(log.segmentBaseOffsets.last, offsets.logEndOffset, "\(context): nothing at \(offset)")
                    XCTAssertFalse(try model.values.contains { try RecordBatchHeader(parsing: $0, at: $0.readerIndex).lastOffset >= offset },
                                   "\(context): model batch missing at \(offset)")
                    break
                }
                for entry in entries {
                    XCTAssertEqual(entry.bytes, model[entry.header.baseOffset], "\(context): batch \(entry.header.baseOffset)")
                    offset = entry.header.nextOffset
                }
            }
            // Lookups by offset and by time against brute force over the model.
            let live = try model.values.map { try RecordBatchHeader(parsing: $0, at: $0.readerIndex) }
                .filter { $0.lastOffset >= offsets.logStartOffset }.sorted { $0.baseOffset < $1.baseOffset }
            // Epochs: every live batch lies in the cache's entry for its epoch; entries start within the log
            // (an epoch whose data all lies below the start keeps an entry clipped to the start, as in Kafka).
            let epochs = log.epochEntries
            XCTAssertTrue(epochs.allSatisfy { $0.startOffset >= offsets.logStartOffset && $0.startOffset <= offsets.logEndOffset },
                          "\(context): epochs \(epochs) outside [\(offsets.logStartOffset), \(offsets.logEndOffset)]")
            for header in live {
                let covering = epochs.last { $0.startOffset <= header.lastOffset }
                XCTAssertEqual(covering?.epoch, header.partitionLeaderEpoch, "\(context): epoch of batch \(header.baseOffset)")
            }
            for _ in 0..<10 where offsets.logEndOffset > offsets.logStartOffset {
                let target = offsets.logStartOffset + Int64(random.next() % UInt64(offsets.logEndOffset - offsets.logStartOffset))
                let holder = live.first { $0.lastOffset >= target }
                XCTAssertEqual(try log.read(from: target, maxBytes: 1, upTo: offsets.logEndOffset).firstBatchOffset,
                               holder?.baseOffset, "\(context): read at \(target)")
                let time = Int64(random.next() % UInt64(nowMs + 2))
                XCTAssertEqual(try log.offsetForTimestamp(time)?.baseOffset, live.first { $0.maxTimestampMs >= time }?.baseOffset,
                               "\(context): timestamp \(time)")
            }
        }

        for step in 0..<operations {
            let context = "seed \(seed) step \(step)"
            let offsets = log.offsets
            guard offsets.logStartOffset <= offsets.highWatermark, offsets.highWatermark <= offsets.flushedOffset,
                offsets.flushedOffset <= offsets.logEndOffset
            else { return XCTFail("\(context): offsets out of order: \(offsets)") }
            nowMs += Int64(random.next() % 1_000)
            let dice = random.next() % 100
            if ProcessInfo.processInfo.environment["LOG_TRACE"] != nil { print("TRACE", context, dice, offsets) }
            switch dice {
            case 0..<55:
                var batches: [ByteBuffer] = []
                // Now and then as a follower, whose batches may skip offsets (compacted on the leader).
                let asFollower = random.next() % 4 == 0
                var next = log.logEndOffset
                for _ in 0..<(1 + random.next() % 3) {
                    if asFollower { next += Int64(random.next() % 3) }
                    let records = 1 + Int(random.next() % 3)
                    stamp += 1
                    var builder = RecordBatchBuilder(baseOffset: next, partitionLeaderEpoch: epoch)
                    for _ in 0..<records {
                        builder.append(key: nil, value: [UInt8(truncatingIfNeeded: stamp)], timestampMs: nowMs)
                    }
                    let batch = try builder.build()
                    model[next] = batch
                    batches.append(batch)
                    next += Int64(records)
                }
                if asFollower {
                    try log.appendAsFollower(TestBatches.concat(batches), nowMs: nowMs)
                } else {
                    try log.appendAsLeader(TestBatches.concat(batches), leaderEpoch: epoch, nowMs: nowMs)
                }
            case 55..<72:
                fixture.scheduler.runPass()
            case 72..<80:
                log.updateHighWatermark(log.flushedOffset)
            case 80..<84:
                try log.writeCheckpoints()
            case 84..<88:
                try log.applyRetention(nowMs: nowMs)
            case 88..<90:
                let target = log.logStartOffset + Int64(random.next() % UInt64(log.highWatermark - log.logStartOffset + 1))
                try log.deleteRecords(before: target)
                deletedBefore = max(deletedBefore, target)
            case 93:
                let start = log.logEndOffset + Int64(random.next() % 5)
                try log.truncateFully(startingAt: start, nowMs: nowMs)
                model = [:]
                deletedBefore = start
                epoch += 1
            case 90..<93:
                let span = UInt64(log.logEndOffset - log.logStartOffset + 1)
                let end = try log.truncate(to: log.logStartOffset + Int64(random.next() % span), nowMs: nowMs)
                model = model.filter { $0.key < end }
                deletedBefore = min(deletedBefore, end)  // the log now starts no later than it ends
                epoch += 1  // a new leader writes what follows
                try check(context + " after truncation")
            default:
                // Half the time a clean restart: close, then lose power.
                let clean = random.next() % 2 == 0
                let endBefore = log.logEndOffset
                if clean { log.close() }
                let flushed = clean ? endBefore : log.flushedOffset
                fixture.crash(.seeded(random.next()))
                log = try fixture.open(nowMs: nowMs)
                XCTAssertGreaterThanOrEqual(log.logEndOffset, flushed, "\(context): flushed data lost")
                if clean { XCTAssertEqual(log.logEndOffset, endBefore, "\(context): clean restart") }
                model = model.filter { $0.key < log.logEndOffset }
                try check(context)
                epoch += 1
            }
        }
        try check("seed \(seed) end")
    }
}
