import NIOCore
import RunnelRecords
import RunnelStorage

extension LogSegment {
    /// The header of the batch at `position`, or nil past the end of the file or where no valid header is.
    func header(at position: Int64) throws -> RecordBatchHeader? {
        let bytes = try log.read(at: position, count: RecordBatchHeader.sizeBytes)
        return RecordBatchHeader.parsedForLog(ByteBuffer(bytes: bytes), at: 0)
    }

    /// The first batch whose last offset is at least `offset`, or nil if none in this segment.
    func locate(offset: Int64) throws -> BatchLocation? {
        guard offset < nextOffset else { return nil }
        let start = try offsetIndex.lastEntry(where: { $0.offset <= offset })?.position ?? 0
        return try walk(from: start) { $0.lastOffset >= offset }
    }

    /// The first batch ending at or after `minimumOffset` whose max timestamp is at least `timestamp`.
    func locate(timestamp: Int64, atOrAfterOffset minimumOffset: Int64) throws -> BatchLocation? {
        guard maxTimestamp >= timestamp, nextOffset > minimumOffset else { return nil }
        // Every batch before a time entry's offset has a max timestamp below the entry's.
        let indexed = try timeIndex.lastEntry(where: { $0.timestamp <= timestamp })?.offset ?? baseOffset
        let from = max(indexed, minimumOffset)
        let start = try offsetIndex.lastEntry(where: { $0.offset <= from })?.position ?? 0
        return try walk(from: start) { $0.maxTimestampMs >= timestamp && $0.lastOffset >= minimumOffset }
    }

    /// The batch that first reached the segment's max timestamp.
    func locateMaxTimestamp() throws -> BatchLocation? {
        guard maxTimestamp > -1 else { return nil }
        return try locate(offset: offsetOfMaxTimestamp)
    }

    /// Where each rising leader epoch starts in this segment: from the last scan, else by reading every
    /// batch header.
    func epochStarts() throws -> [EpochEntry] {
        if let scannedEpochStarts { return scannedEpochStarts }
        var starts: [EpochEntry] = []
        _ = try walk(from: 0) { header in
            if header.partitionLeaderEpoch > (starts.last?.epoch ?? -1) {
                starts.append(EpochEntry(epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset))
            }
            return false
        }
        return starts
    }

    /// Every batch header of the segment, in order (rebuilding producer state on open).
    func forEachBatchHeader(_ body: (RecordBatchHeader) -> Void) throws {
        _ = try walk(from: 0) { header in
            body(header)
            return false
        }
    }

    private func walk(from start: Int64, until found: (RecordBatchHeader) -> Bool) throws -> BatchLocation? {
        var position = start
        while position < sizeBytes {
            guard let header = try header(at: position) else {
                throw StorageError.io(operation: "read batch header", path: log.path, errno: 0)
            }
            if found(header) { return BatchLocation(position: position, header: header) }
            position += Int64(header.totalSize)
        }
        return nil
    }

    /// The end position of the whole batches to return from `start`: at most `maxBytes` (except the first
    /// batch when `minOneBatch`), none whose last offset reaches `limitOffset`.
    func endOfRead(from start: BatchLocation, maxBytes: Int, limitOffset: Int64, minOneBatch: Bool) throws -> Int64 {
        guard start.header.lastOffset < limitOffset else { return start.position }
        let firstEnd = start.position + Int64(start.header.totalSize)
        guard minOneBatch || firstEnd - start.position <= Int64(maxBytes) else { return start.position }
        let budgetEnd = start.position + Int64(min(max(maxBytes, 0), Int(Int32.max)))  // maxBytes comes from the network
        var end = firstEnd
        // Jump over whole batches with the index: every batch before an entry ends below the entry's offset.
        if let entry = try offsetIndex.lastEntry(where: { $0.position <= budgetEnd && $0.offset <= limitOffset }),
            entry.position > end {
            end = entry.position
        }
        while end < sizeBytes, let header = try header(at: end),
            header.lastOffset < limitOffset, end + Int64(header.totalSize) <= budgetEnd {
            end += Int64(header.totalSize)
        }
        return end
    }

    func read(position: Int64, length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length)
        let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var done = 0
            while done < length {
                let n = try log.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[done..<length]),
                                     at: position + Int64(done))
                if n == 0 { break }
                done += n
            }
            return done
        }
        guard got == length else { throw StorageError.io(operation: "short read", path: log.path, errno: 0) }
        return buffer
    }
}
