import NIOCore
import RunnelRecords
import RunnelStorage

/// A batch found in a segment file.
struct BatchLocation: Equatable {
    var position: Int64
    var header: RecordBatchHeader
}

/// One segment: a file of whole record batches starting at `baseOffset`, with its sparse offset index and
/// time index. Only the last segment of a log is appended to. Not thread-safe: `PartitionLog` owns it
/// under its lock.
struct LogSegment {
    let baseOffset: Int64
    let log: any StorageFile
    private(set) var offsetIndex: IndexFile<OffsetIndexEntry>
    private(set) var timeIndex: IndexFile<TimeIndexEntry>
    let indexIntervalBytes: Int
    private(set) var sizeBytes: Int64 = 0
    /// One past the last offset of the last batch; the base offset while empty.
    private(set) var nextOffset: Int64
    /// The largest batch max timestamp (-1, Kafka's "no timestamp", while there is none).
    private(set) var maxTimestamp: Int64 = -1
    /// The base offset of the first batch that reached `maxTimestamp`.
    private(set) var offsetOfMaxTimestamp: Int64
    /// The first batch's max timestamp: the age that time-based rolling measures (as Kafka does).
    private(set) var firstBatchMaxTimestamp: Int64?
    private var bytesSinceIndexEntry = 0
    /// Where each rising leader epoch starts in this segment, as seen by the last full scan (`recover`);
    /// nil when the segment was opened from its indexes.
    private(set) var scannedEpochStarts: [EpochEntry]?
    /// When this process created or opened the segment (the caller's clock).
    let createdMs: Int64

    /// What time-based rolling measures the segment's age from: its first batch's max timestamp, or
    /// without one the time it was created or opened.
    var rollReferenceMs: Int64 {
        if let first = firstBatchMaxTimestamp, first >= 0 { return first }
        return createdMs
    }

    var files: [any StorageFile] { [log, offsetIndex.file, timeIndex.file] }
    var isEmpty: Bool { sizeBytes == 0 }

    private init(baseOffset: Int64, log: any StorageFile, offsetIndex: IndexFile<OffsetIndexEntry>,
                 timeIndex: IndexFile<TimeIndexEntry>, indexIntervalBytes: Int, createdMs: Int64) {
        self.baseOffset = baseOffset
        self.createdMs = createdMs
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.indexIntervalBytes = indexIntervalBytes
        nextOffset = baseOffset
        offsetOfMaxTimestamp = baseOffset
    }

    /// Creates empty files (replacing stale ones). The caller syncs the directory.
    static func create(in directory: String, baseOffset: Int64, fileSystem: any FileSystem,
                       indexIntervalBytes: Int, nowMs: Int64) throws -> LogSegment {
        let log = try fileSystem.openFile(SegmentFileNames.logPath(directory, baseOffset), options: [.create, .truncate])
        let index = try fileSystem.openFile(SegmentFileNames.indexPath(directory, baseOffset), options: [.create, .truncate])
        let time = try fileSystem.openFile(SegmentFileNames.timeIndexPath(directory, baseOffset), options: [.create, .truncate])
        return LogSegment(baseOffset: baseOffset, log: log,
                          offsetIndex: try IndexFile(file: index, baseOffset: baseOffset),
                          timeIndex: try IndexFile(file: time, baseOffset: baseOffset),
                          indexIntervalBytes: indexIntervalBytes, createdMs: nowMs)
    }

    /// Opens an existing segment. A `trusted` segment was synced whole before the crash: its indexes are
    /// checked and kept if consistent. Any other segment (and a trusted one whose indexes are off) is
    /// scanned batch by batch, its indexes rebuilt and a torn or corrupt tail cut off.
    /// - Returns: the segment and whether recovery cut bytes off its end.
    static func open(in directory: String, baseOffset: Int64, fileSystem: any FileSystem,
                     indexIntervalBytes: Int, trusted: Bool, nowMs: Int64) throws -> (LogSegment, truncated: Bool) {
        let log = try fileSystem.openFile(SegmentFileNames.logPath(directory, baseOffset), options: [])
        let index = try fileSystem.openFile(SegmentFileNames.indexPath(directory, baseOffset), options: [.create])
        let time = try fileSystem.openFile(SegmentFileNames.timeIndexPath(directory, baseOffset), options: [.create])
        var segment = LogSegment(baseOffset: baseOffset, log: log,
                                 offsetIndex: try IndexFile(file: index, baseOffset: baseOffset),
                                 timeIndex: try IndexFile(file: time, baseOffset: baseOffset),
                                 indexIntervalBytes: indexIntervalBytes, createdMs: nowMs)
        if trusted, try segment.loadFromIndexes() { return (segment, false) }
        let truncated = try segment.recover()  // before `segment` is copied out
        return (segment, truncated)
    }

    func close() {
        for file in files { file.close() }
    }

    // MARK: Appending

    /// Writes `bytes` (whole batches described by `headers`, in order) with one write, then indexes them.
    mutating func append(_ batches: ByteBuffer, headers: [RecordBatchHeader]) throws {
        precondition(headers.first.map { $0.baseOffset >= nextOffset } ?? false)
        precondition(headers.reduce(0) { $0 + $1.totalSize } == batches.readableBytes)
        var position = sizeBytes
        try batches.withUnsafeReadableBytes { [position] raw in try log.write(raw, at: position) }
        for header in headers {
            try index(header, at: position)
            position += Int64(header.totalSize)
        }
    }

    /// Records a batch just placed at `position` (the end of the segment).
    private mutating func index(_ header: RecordBatchHeader, at position: Int64) throws {
        precondition(position == sizeBytes && header.baseOffset >= nextOffset)
        precondition(header.lastOffset - baseOffset <= Int64(UInt32.max))
        if firstBatchMaxTimestamp == nil { firstBatchMaxTimestamp = header.maxTimestampMs }
        if header.maxTimestampMs > maxTimestamp {
            maxTimestamp = header.maxTimestampMs
            offsetOfMaxTimestamp = header.baseOffset
        }
        if bytesSinceIndexEntry > indexIntervalBytes {
            try offsetIndex.append(OffsetIndexEntry(offset: header.baseOffset, position: position))
            try appendTimeEntryIfNewer()
            bytesSinceIndexEntry = 0
        }
        bytesSinceIndexEntry += header.totalSize
        sizeBytes = position + Int64(header.totalSize)
        nextOffset = header.nextOffset
    }

    private mutating func appendTimeEntryIfNewer() throws {
        if maxTimestamp > (timeIndex.last?.timestamp ?? -1) {
            try timeIndex.append(TimeIndexEntry(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp))
        }
    }

    /// Called when the segment stops being active: its last time-index entry then holds its max
    /// timestamp, which is how a reopened segment learns it without a scan.
    mutating func seal() throws {
        try appendTimeEntryIfNewer()
    }

    // MARK: Recovery

    /// Scans every batch from the start (structure, offsets, CRC), rebuilds both indexes and cuts the
    /// file at the first batch that is torn or corrupt. Returns whether it cut.
    mutating func recover() throws -> Bool {
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
        scan: while position < fileSize {
            let chunk = try read(position: position, length: Int(min(Int64(readBytes), fileSize - position)))
            var batches = RecordBatchIterator(chunk, verifyingChecksums: true)
            var progressed = false
            do {
                while let entry = try batches.next() {
                    let header = entry.header
                    guard header.hasStorableOffsets, header.baseOffset >= nextOffset,
                        header.lastOffset - baseOffset <= Int64(UInt32.max)
                    else { break scan }
                    try index(header, at: position)
                    if header.partitionLeaderEpoch > (epochStarts.last?.epoch ?? -1) {
                        epochStarts.append(EpochEntry(epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset))
                    }
                    position += Int64(header.totalSize)
                    progressed = true
                }
            } catch {
                break scan  // a corrupt header or a CRC mismatch
            }
            if progressed {
                readBytes = chunkBytes
                continue
            }
            // The batch at `position` runs past the chunk: read it whole once; if the file ends first, it is torn.
            guard let header = RecordBatchHeader.parsedForLog(chunk, at: chunk.readerIndex),
                position + Int64(header.totalSize) <= fileSize, header.totalSize > chunk.readableBytes
            else { break scan }
            readBytes = header.totalSize
        }
        if position < fileSize {
            try log.truncate(to: position)
            return true
        }
        return false
    }

    /// Restores the in-memory state of a trusted segment from its indexes, walking only the batches after
    /// the last offset-index entry. Returns false when the indexes are inconsistent (then `recover`).
    private mutating func loadFromIndexes() throws -> Bool {
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

    // MARK: Reading

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
        let budgetEnd = start.position + Int64(max(maxBytes, 0))
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

    // MARK: Truncation

    /// Drops the batch containing `offset` and everything after it; rebuilds the indexes.
    mutating func truncate(to offset: Int64) throws {
        guard let location = try locate(offset: offset) else { return }
        try log.truncate(to: location.position)
        _ = try recover()
    }
}
