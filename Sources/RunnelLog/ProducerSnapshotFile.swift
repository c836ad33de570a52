import RunnelChecksum
import RunnelStorage

/// The producers' state as of an offset, written at segment roll and at clean close, so that opening a
/// log replays only the batches after the latest snapshot, and producers whose batches retention deleted
/// are still known. Named `<offset, 20 digits>.snapshot`: it holds the state of every batch below that
/// offset. Layout: magic, version, producer count, then per producer its id, epoch and batches; a CRC32C
/// of everything before it at the end. Integers big-endian.
enum ProducerSnapshotFile {
    static let suffix = ".snapshot"
    /// Kept on disk: the newest and one before it (a fallback should the newest be unreadable).
    static let retainedCount = 2
    private static let magic: UInt32 = 0x524E_5053  // "RNPS"
    private static let version: UInt16 = 1
    /// A bound on what a damaged file can make us allocate.
    static let producersMax = 1 << 22
    private static let entryHeaderBytes = 8 + 2 + 1
    private static let batchBytes = 4 + 4 + 8 + 8

    static func path(_ directory: String, offset: Int64) -> String {
        Path.join(directory, SegmentFileNames.stem(baseOffset: offset) + suffix)
    }

    static func offset(fromName name: String) -> Int64? { SegmentFileNames.baseOffset(fromName: name, suffix: suffix) }

    static func encode(_ table: ProducerStateTable) -> [UInt8] {
        precondition(table.producers.count <= producersMax)
        var bytes: [UInt8] = []
        bytes.appendBigEndian(magic)
        bytes.appendBigEndian(version)
        bytes.appendBigEndian(UInt32(table.producers.count))
        for (id, entry) in table.producers.sorted(by: { $0.key < $1.key }) {
            bytes.appendBigEndian(id)
            bytes.appendBigEndian(entry.epoch)
            bytes.append(UInt8(entry.batches.count))
            for batch in entry.batches {
                bytes.appendBigEndian(batch.firstSequence)
                bytes.appendBigEndian(batch.lastSequence)
                bytes.appendBigEndian(batch.firstOffset)
                bytes.appendBigEndian(batch.lastOffset)
            }
        }
        bytes.appendBigEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// The table, or nil if anything is off (magic, version, CRC, counts, lengths).
    static func decode(_ bytes: [UInt8]) -> ProducerStateTable? {
        guard bytes.count >= 4 + 2 + 4 + 4 else { return nil }
        var reader = Reader(bytes: bytes, position: 0)
        let body = bytes.count - 4
        var trailer = Reader(bytes: bytes, position: body)
        guard let stored: UInt32 = trailer.next(), CRC32C.checksum(bytes[..<body]) == stored,
            reader.next() == magic, reader.next() == version, let count: UInt32 = reader.next(), Int(count) <= producersMax
        else { return nil }
        var producers: [Int64: ProducerEntry] = [:]
        for _ in 0..<Int(count) {
            guard body - reader.position >= entryHeaderBytes, let id: Int64 = reader.next(), let epoch: Int16 = reader.next(),
                let batchCount: UInt8 = reader.next(), batchCount <= ProducerStateTable.batchesRetained,
                body - reader.position >= Int(batchCount) * batchBytes, id >= 0, producers[id] == nil
            else { return nil }
            var batches: [ProducerBatch] = []
            for _ in 0..<Int(batchCount) {
                guard let firstSequence: Int32 = reader.next(), let lastSequence: Int32 = reader.next(),
                    let firstOffset: Int64 = reader.next(), let lastOffset: Int64 = reader.next()
                else { return nil }
                batches.append(ProducerBatch(firstSequence: firstSequence, lastSequence: lastSequence,
                                             firstOffset: firstOffset, lastOffset: lastOffset))
            }
            producers[id] = ProducerEntry(epoch: epoch, batches: batches)
        }
        guard reader.position == body else { return nil }
        return ProducerStateTable(producers: producers)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position: Int

        mutating func next<T: FixedWidthInteger>() -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - position >= size else { return nil }
            defer { position += size }
            return bytes[position..<position + size].reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }
        }
    }
}

extension LogState {
    /// Offsets of the producer snapshots in the directory, ascending.
    func producerSnapshotOffsets() throws -> [Int64] {
        try fileSystem.contentsOfDirectory(directory).compactMap(ProducerSnapshotFile.offset(fromName:)).sorted()
    }

    /// Writes the producers' state as of `offset` (the log end offset: everything below it applied) and
    /// deletes all but the newest snapshots.
    func writeProducerSnapshot(at offset: Int64) throws {
        precondition(offset == logEndOffset)
        try fileSystem.writeAtomically(ProducerSnapshotFile.encode(producers), to: ProducerSnapshotFile.path(directory, offset: offset))
        for old in try producerSnapshotOffsets().dropLast(ProducerSnapshotFile.retainedCount) {
            try fileSystem.removeFile(ProducerSnapshotFile.path(directory, offset: old))
        }
    }

    /// Removes snapshots taken beyond `offset` (they describe batches the log no longer holds).
    func removeProducerSnapshots(after offset: Int64) throws {
        for old in try producerSnapshotOffsets() where old > offset {
            try fileSystem.removeFile(ProducerSnapshotFile.path(directory, offset: old))
        }
    }

    /// Loads the producers' state: the newest readable snapshot at or below the log end offset, plus every
    /// batch from its offset on (all batches when there is none). Open and truncation use it.
    mutating func loadProducers() throws {
        try removeProducerSnapshots(after: logEndOffset)
        var table = ProducerStateTable()
        var replayFrom = Int64.min
        for offset in try producerSnapshotOffsets().reversed() {
            let path = ProducerSnapshotFile.path(directory, offset: offset)
            if let bytes = try CheckpointFile.read(path, fileSystem: fileSystem), let loaded = ProducerSnapshotFile.decode(bytes) {
                table = loaded
                replayFrom = offset
                break
            }
        }
        for segment in segments where segment.nextOffset > replayFrom {
            try segment.forEachBatchHeader { header in
                if header.baseOffset >= replayFrom { table.apply(header) }
            }
        }
        producers = table
    }
}
