import NIOCore
import RunnelLog
import RunnelRecords
import RunnelTestSupport
import XCTest

/// Batches stored before their records were validated on append (a delete-policy topic switched to
/// compact, or a log written by an older broker): the cleaner keeps what it cannot take apart whole and
/// goes on, never trapping, so the broker cannot crash-loop on its own data.
final class PoisonedBatchCleaningTests: XCTestCase {
    func testTheCleanerKeepsPoisonedBatchesWholeAndCompactsTheRest() throws {
        try assertCleanerKeepsWhole(PoisonBatch.named)
    }

    /// Two records of one key at offset deltas 0, 0 or 1, 0: the offset map must not see its offsets fall.
    func testRepeatedOffsetDeltasOnDiskDoNotTripTheOffsetMap() throws {
        try assertCleanerKeepsWhole(PoisonBatch.named.filter { $0.name.hasPrefix("offset deltas") })
    }

    private func assertCleanerKeepsWhole(_ poisons: [(name: String, batch: ByteBuffer)]) throws {
        for (name, poison) in poisons {
            let fixture = try LogFixture(config: CompactionTests.compactConfig(policy: .delete))
            let log = try fixture.open()
            for i in 0..<10 {
                try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 3)", value: "v\(i)")]))
            }
            try fixture.appendCommitted(log, poison)
            for i in 10..<30 {
                try fixture.appendCommitted(log, Keyed.batch([KeyedUpdate(key: "k\(i % 3)", value: "v\(i)")]))
            }
            let poisonCRC = try RecordBatchHeader(parsing: poison).crc
            XCTAssertEqual(try fixture.readAll(log).filter { $0.crc == poisonCRC }.count, 1, name)

            log.updateConfig(CompactionTests.compactConfig())
            let outcome = try log.clean(nowMs: 10_000)
            XCTAssertTrue(outcome.ran, name)
            XCTAssertEqual(outcome.batchesSkipped, 1, "\(name) is counted")
            XCTAssertGreaterThan(outcome.recordsRemoved, 10, "the good batches around \(name) are compacted")
            XCTAssertEqual(try fixture.readAll(log).filter { $0.crc == poisonCRC }.count, 1, "\(name) is kept whole")
            XCTAssertNoThrow(try log.clean(nowMs: 20_000), name)
        }
    }
}
