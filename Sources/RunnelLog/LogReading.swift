import RunnelRecords
import RunnelStorage

/// Where a read's bytes lie.
struct ReadPlan {
    var segmentIndex: Int
    var position: Int64
    var length: Int
    var firstBatchOffset: Int64
}

extension LogState {
    /// Plans a read of whole batches from the batch holding `offset`, below `limitOffset`, in one segment.
    func planRead(from offset: Int64, maxBytes: Int, limitOffset: Int64, minOneBatch: Bool) throws -> ReadPlan? {
        guard offset >= logStartOffset && offset <= logEndOffset else {
            throw LogError.offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        let limit = min(limitOffset, logEndOffset)
        guard offset < limit, let (index, location) = try locate(offset: offset) else { return nil }
        let end = try segments[index].endOfRead(from: location, maxBytes: maxBytes, limitOffset: limit, minOneBatch: minOneBatch)
        guard end > location.position else { return nil }
        return ReadPlan(segmentIndex: index, position: location.position, length: Int(end - location.position),
                        firstBatchOffset: location.header.baseOffset)
    }

    /// The first batch whose last offset is at least `offset`, with its segment's index.
    func locate(offset: Int64) throws -> (Int, BatchLocation)? {
        // Binary search for the last segment starting at or before `offset` (the first if none does).
        var low = 0
        var high = segments.count
        while low < high {
            let middle = low + (high - low) / 2
            if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        var index = max(low - 1, 0)
        while index < segments.count {
            if let location = try segments[index].locate(offset: offset) { return (index, location) }
            index += 1
        }
        return nil
    }

    /// The first batch at or after the log start offset whose max timestamp is at least `timestamp`.
    func offsetForTimestamp(_ timestamp: Int64) throws -> TimestampedBatch? {
        for segment in segments where segment.nextOffset > logStartOffset {
            if let location = try segment.locate(timestamp: timestamp, atOrAfterOffset: logStartOffset) {
                return TimestampedBatch(location.header)
            }
        }
        return nil
    }

    /// The batch holding the largest timestamp (the first such batch on ties).
    func offsetForMaxTimestamp() throws -> TimestampedBatch? {
        var best: LogSegment?
        for segment in segments where segment.nextOffset > logStartOffset && segment.maxTimestamp > (best?.maxTimestamp ?? -1) {
            best = segment
        }
        return try best?.locateMaxTimestamp().map { TimestampedBatch($0.header) }
    }
}

extension TimestampedBatch {
    init(_ header: RecordBatchHeader) {
        self.init(baseOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestampMs)
    }
}
