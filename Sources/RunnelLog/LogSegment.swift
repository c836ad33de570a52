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
/// under its lock. Recovery and reading live in LogSegment+Recovery.swift and LogSegment+Reading.swift.
struct LogSegment {
    let baseOffset: Int64
    let log: any StorageFile
    var offsetIndex: IndexFile<OffsetIndexEntry>
    var timeIndex: IndexFile<TimeIndexEntry>
    let indexIntervalBytes: Int
    var sizeBytes: Int64 = 0
    /// One past the last offset of the last batch; the base offset while empty.
    var nextOffset: Int64
    /// The largest batch max timestamp (-1, Kafka's "no timestamp", while there is none).
    var maxTimestamp: Int64 = -1
    /// The base offset of the first batch that reached `maxTimestamp`.
    var offsetOfMaxTimestamp: Int64
    /// The first batch's max timestamp: the age that time-based rolling measures (as Kafka does).
    var firstBatchMaxTimestamp: Int64?
    /// Bytes of batches since the last offset-index entry.
    var bytesSinceIndexEntry = 0
    /// Where each rising leader epoch starts in this segment, as seen by the last full scan (`recover`);
    /// nil when the segment was opened from its indexes.
    var scannedEpochStarts: [EpochEntry]?
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

    init(baseOffset: Int64, log: any StorageFile, offsetIndex: IndexFile<OffsetIndexEntry>,
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
    /// scanned batch by batch and its indexes rebuilt; nothing is cut here (see `RecoveryVerdict`).
    /// - Returns: the segment and what its scan found (`SegmentScan.loaded` when the indexes were kept).
    static func open(in directory: String, baseOffset: Int64, fileSystem: any FileSystem,
                     indexIntervalBytes: Int, trusted: Bool, nowMs: Int64) throws -> (LogSegment, SegmentScan) {
        let log = try fileSystem.openFile(SegmentFileNames.logPath(directory, baseOffset), options: [])
        let index = try fileSystem.openFile(SegmentFileNames.indexPath(directory, baseOffset), options: [.create])
        let time = try fileSystem.openFile(SegmentFileNames.timeIndexPath(directory, baseOffset), options: [.create])
        var segment = LogSegment(baseOffset: baseOffset, log: log,
                                 offsetIndex: try IndexFile(file: index, baseOffset: baseOffset),
                                 timeIndex: try IndexFile(file: time, baseOffset: baseOffset),
                                 indexIntervalBytes: indexIntervalBytes, createdMs: nowMs)
        if trusted, try segment.loadFromIndexes() { return (segment, .loaded(segment)) }
        let scan = try segment.scan()  // before `segment` is copied out
        return (segment, scan)
    }

    func close() {
        for file in files { file.close() }
    }

    // MARK: Appending

    /// Writes `bytes` (whole batches described by `headers`, in order) with one write, then indexes them.
    /// Appends `batches`, described by `headers`; with `stampedHeaders` (a leader's, one
    /// `RecordBatchHeader.sizeBytes` header per batch) each batch's header is written from there instead,
    /// in one gather write with the rest of the batches.
    mutating func append(_ batches: ByteBuffer, replacingHeadersWith stampedHeaders: ByteBuffer? = nil,
                         headers: [RecordBatchHeader]) throws {
        precondition(headers.first.map { $0.baseOffset >= nextOffset } ?? false)
        precondition(headers.reduce(0) { $0 + $1.totalSize } == batches.readableBytes)
        var position = sizeBytes
        if let stampedHeaders {
            let headerBytes = RecordBatchHeader.sizeBytes
            precondition(stampedHeaders.readableBytes == headers.count * headerBytes)
            try batches.withUnsafeReadableBytes { [position] body in
                try stampedHeaders.withUnsafeReadableBytes { stamped in
                    var parts: [UnsafeRawBufferPointer] = []
                    parts.reserveCapacity(2 * headers.count)
                    var start = 0
                    for (index, header) in headers.enumerated() {
                        parts.append(UnsafeRawBufferPointer(rebasing: stamped[(index * headerBytes)..<((index + 1) * headerBytes)]))
                        parts.append(UnsafeRawBufferPointer(rebasing: body[(start + headerBytes)..<(start + header.totalSize)]))
                        start += header.totalSize
                    }
                    try log.write(gathering: parts, at: position)
                }
            }
        } else {
            try batches.withUnsafeReadableBytes { [position] raw in try log.write(raw, at: position) }
        }
        for header in headers {
            try index(header, at: position)
            position += Int64(header.totalSize)
        }
    }

    /// Records a batch just placed at `position` (the end of the segment).
    mutating func index(_ header: RecordBatchHeader, at position: Int64) throws {
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

    // MARK: Truncation

    /// Drops the batch containing `offset` and everything after it, and the index entries for them.
    mutating func truncate(to offset: Int64) throws {
        guard let location = try locate(offset: offset) else { return }
        let cut = location.position
        try log.truncate(to: cut)
        try offsetIndex.truncate(keepingWhile: { $0.position < cut })
        try timeIndex.truncate(keepingWhile: { $0.offset < location.header.baseOffset })
        // Time entries are written at offset-index entries with the max so far, so the kept time index
        // covers every batch before the last kept offset entry; walk the batches from there to the cut.
        let walkStart = offsetIndex.last?.position ?? 0
        sizeBytes = walkStart
        nextOffset = offsetIndex.last?.offset ?? baseOffset
        maxTimestamp = timeIndex.last?.timestamp ?? -1
        offsetOfMaxTimestamp = timeIndex.last?.offset ?? baseOffset
        bytesSinceIndexEntry = 0
        if walkStart == 0 { firstBatchMaxTimestamp = nil }
        scannedEpochStarts = nil
        var position = walkStart
        while position < cut {
            guard let header = try header(at: position) else {
                throw StorageError.io(operation: "read batch header", path: log.path, errno: 0)
            }
            if firstBatchMaxTimestamp == nil { firstBatchMaxTimestamp = header.maxTimestampMs }
            if header.maxTimestampMs > maxTimestamp {
                maxTimestamp = header.maxTimestampMs
                offsetOfMaxTimestamp = header.baseOffset
            }
            bytesSinceIndexEntry += header.totalSize
            position += Int64(header.totalSize)
            nextOffset = header.nextOffset
        }
        sizeBytes = cut
    }
}
