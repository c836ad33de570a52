import NIOCore
import RunnelRecords
import RunnelStorage

extension LogSegment {
    /// Scans every batch from the start (structure, offsets, CRC) and rebuilds both indexes from the
    /// valid ones. Cuts nothing: whether damage is a torn tail to cut or corruption to report is the
    /// caller's decision (`RecoveryVerdict`), which needs to know what was synced.
    mutating func scan() throws -> SegmentScan {
        try offsetIndex.removeAll()
        try timeIndex.removeAll()
        sizeBytes = 0
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = baseOffset
        firstBatchMaxTimestamp = nil
        bytesSinceIndexEntry = 0
        var epochStarts: [EpochEntry] = []
        defer { scannedEpochStarts = epochStarts }

        let fileSize = try log.size()
        let chunkBytes = 1 << 20
        var readBytes = chunkBytes
        var position: Int64 = 0
        var damage: String?
        scan: while position < fileSize {
            let chunk = try read(position: position, length: Int(min(Int64(readBytes), fileSize - position)))
            var batches = RecordBatchIterator(chunk, verifyingChecksums: true)
            var progressed = false
            do {
                while let entry = try batches.next() {
                    let header = entry.header
                    guard header.hasStorableOffsets else {
                        damage = "a batch with offsets the log cannot hold (base offset \(header.baseOffset))"
                        break scan
                    }
                    guard header.baseOffset >= nextOffset else {
                        damage = "a batch at offset \(header.baseOffset) after one ending at \(nextOffset)"
                        break scan
                    }
                    guard header.lastOffset - baseOffset <= Int64(UInt32.max) else {
                        damage = "a batch at offset \(header.lastOffset) past the segment's relative offsets"
                        break scan
                    }
                    try index(header, at: position)
                    if header.partitionLeaderEpoch > (epochStarts.last?.epoch ?? -1) {
                        epochStarts.append(EpochEntry(epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset))
                    }
                    position += Int64(header.totalSize)
                    progressed = true
                }
            } catch {
                damage = "\(error)"  // a corrupt header or a CRC mismatch
                break scan
            }
            if progressed {
                readBytes = chunkBytes
                continue
            }
            // The batch at `position` runs past the chunk: read it whole once; if the file ends first, it is torn.
            guard let header = RecordBatchHeader.parsedForLog(chunk, at: chunk.readerIndex) else {
                damage = fileSize - position < Int64(RecordBatchHeader.sizeBytes)
                    ? "a partial batch header at the end of the file" : "an unreadable batch header"
                break scan
            }
            guard position + Int64(header.totalSize) <= fileSize else {
                damage = "a batch of \(header.totalSize) bytes running past the end of the file"
                break scan
            }
            guard header.totalSize > chunk.readableBytes else {
                damage = "an unreadable batch"
                break scan
            }
            readBytes = header.totalSize
        }
        return SegmentScan(validBytes: position, fileBytes: fileSize, nextOffset: nextOffset, damage: position < fileSize ? damage : nil)
    }

    /// Cuts the file after its valid batches (a torn tail the verdict allows to drop).
    func cutTail(at position: Int64) throws {
        precondition(position == sizeBytes, "a segment is cut only where its scan stopped")
        try log.truncate(to: position)
    }

    /// Restores the in-memory state of a trusted segment from its indexes, walking only the batches after
    /// the last offset-index entry. Returns false when the indexes are inconsistent (then `recover`).
    mutating func loadFromIndexes() throws -> Bool {
        guard try offsetIndex.hasWholeEntries(), try timeIndex.hasWholeEntries() else { return false }
        let fileSize = try log.size()
        let offsets = try offsetIndex.allEntries()
        for (previous, next) in zip(offsets, offsets.dropFirst())
        where next.offset <= previous.offset || next.position <= previous.position { return false }
        if let first = offsets.first, first.offset < baseOffset { return false }
        if let last = offsets.last, last.position >= fileSize { return false }
        let times = try timeIndex.allEntries()
        for (previous, next) in zip(times, times.dropFirst())
        where next.timestamp <= previous.timestamp || next.offset < previous.offset { return false }
        if let first = times.first, first.offset < baseOffset { return false }

        // Walk from the last indexed batch to the end: its header must be where the index says.
        var position = offsets.last?.position ?? 0
        var walkedNext = offsets.last?.offset ?? baseOffset
        var bytesSinceEntry = 0
        while position < fileSize {
            guard let header = try header(at: position), header.baseOffset >= walkedNext,
                position + Int64(header.totalSize) <= fileSize
            else { return false }
            if position == offsets.last?.position, header.baseOffset != offsets.last?.offset { return false }
            bytesSinceEntry += header.totalSize
            walkedNext = header.nextOffset
            position += Int64(header.totalSize)
        }
        if let last = times.last, last.offset >= walkedNext { return false }
        let first = fileSize > 0 ? try header(at: 0) : nil
        if fileSize > 0 && first == nil { return false }
        // A sealed segment with timestamps has a time entry holding its max.
        if let first, first.maxTimestampMs > -1, times.isEmpty { return false }

        sizeBytes = fileSize
        nextOffset = walkedNext
        maxTimestamp = times.last?.timestamp ?? -1
        offsetOfMaxTimestamp = times.last?.offset ?? baseOffset
        firstBatchMaxTimestamp = first?.maxTimestampMs
        bytesSinceIndexEntry = bytesSinceEntry
        return true
    }
}
