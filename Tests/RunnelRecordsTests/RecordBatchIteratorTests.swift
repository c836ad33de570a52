import NIOCore
import RunnelCompression
import XCTest

@testable import RunnelRecords

final class RecordBatchIteratorTests: XCTestCase {
    private func twoBatches() throws -> (buffer: ByteBuffer, firstSize: Int) {
        var buffer = try makeBatch(codec: .gzip, baseOffset: 10, count: 2)
        let firstSize = buffer.readableBytes
        var second = try makeBatch(codec: .none, baseOffset: 12, count: 3)
        buffer.writeBuffer(&second)
        return (buffer, firstSize)
    }

    func testWalksConsecutiveBatchesAndReportsTheirPositions() throws {
        let (buffer, firstSize) = try twoBatches()
        var iterator = RecordBatchIterator(buffer, verifyingChecksums: true)
        let entries = try iterator.collect()
        XCTAssertEqual(entries.map(\.index), [0, firstSize])
        XCTAssertEqual(entries.map(\.header.baseOffset), [10, 12])
        XCTAssertEqual(entries.map(\.bytes.readableBytes), entries.map(\.header.totalSize))
        XCTAssertEqual(iterator.position, buffer.writerIndex)
        XCTAssertEqual(iterator.trailingBytes, 0)
    }

    func testAPartialTrailingBatchEndsTheWalkCleanlyAtEveryCut() throws {
        let (buffer, firstSize) = try twoBatches()
        for cut in firstSize..<buffer.readableBytes {
            var iterator = RecordBatchIterator(buffer.getSlice(at: 0, length: cut)!, verifyingChecksums: true)
            let entries = try iterator.collect()
            XCTAssertEqual(entries.count, 1, "cut at \(cut)")
            XCTAssertEqual(iterator.position, firstSize)
            XCTAssertEqual(iterator.trailingBytes, cut - firstSize)
        }
    }

    func testStartsAtTheReaderIndex() throws {
        var (buffer, firstSize) = try twoBatches()
        buffer.moveReaderIndex(forwardBy: firstSize)
        var iterator = RecordBatchIterator(buffer)
        XCTAssertEqual(try iterator.collect().map(\.header.baseOffset), [12])
    }

    func testCorruptionMidBufferThrowsAndLeavesThePositionAtTheBadBatch() throws {
        var (buffer, firstSize) = try twoBatches()
        buffer.setInteger(UInt8(0xAB), at: firstSize + 70)  // inside the second batch's records
        var iterator = RecordBatchIterator(buffer, verifyingChecksums: true)
        XCTAssertNotNil(try iterator.next())
        XCTAssertThrowsError(try iterator.next()) {
            guard case .checksumMismatch = $0 as? RecordBatchError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(iterator.position, firstSize, "recovery truncates here")

        var trusting = RecordBatchIterator(buffer, verifyingChecksums: false)
        XCTAssertEqual(try trusting.collect().count, 2, "a passthrough walk does not read the CRC")
    }

    func testGarbageWhereAHeaderShouldBeIsAnErrorNotAPartialBatch() throws {
        var (buffer, _) = try twoBatches()
        buffer.writeBytes([UInt8](repeating: 0, count: 40))  // zero magic: not a torn batch
        var iterator = RecordBatchIterator(buffer)
        XCTAssertThrowsError(try iterator.collect()) {
            XCTAssertEqual($0 as? RecordBatchError, .unsupportedMagic(0))
        }
    }
}

final class DecodeAllTests: XCTestCase {
    func testDecodeAllReadsEveryCompleteBatchAndIgnoresAPartialTail() throws {
        var buffer = try makeBatch(codec: .snappy, baseOffset: 0, count: 2)
        var second = try makeBatch(codec: .lz4, baseOffset: 2, count: 2)
        var third = try makeBatch(codec: .none, baseOffset: 4, count: 1)
        buffer.writeBuffer(&second)
        buffer.writeImmutableBuffer(third.readSlice(length: 30)!)
        let batches = try RecordBatch.decodeAll(in: buffer, maxUncompressedBytes: 1 << 20)
        XCTAssertEqual(batches.flatMap(\.records).map(\.offset), [0, 1, 2, 3])
    }

    func testDecodeAllRejectsABatchWithABadChecksum() throws {
        var buffer = try makeBatch(count: 2)
        buffer.setInteger(UInt8(0x55), at: buffer.writerIndex - 1)
        XCTAssertThrowsBatchError(try RecordBatch.decodeAll(in: buffer, maxUncompressedBytes: 1 << 20), kafkaErrorCode: 2)
    }
}
