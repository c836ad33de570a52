import RunnelStorage

/// One fixed-size entry of a segment index, stored relative to the segment's base offset.
protocol IndexEntry: Equatable, Sendable {
    static var sizeBytes: Int { get }
    init(decoding raw: UnsafeRawBufferPointer, baseOffset: Int64)
    func encode(baseOffset: Int64, into bytes: inout [UInt8])
}

/// An offset-index entry: the batch whose base offset is `offset` starts at byte `position`.
struct OffsetIndexEntry: IndexEntry {
    static let sizeBytes = 8
    var offset: Int64
    var position: Int64

    init(offset: Int64, position: Int64) {
        self.offset = offset
        self.position = position
    }

    init(decoding raw: UnsafeRawBufferPointer, baseOffset: Int64) {
        offset = baseOffset + Int64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        position = Int64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    }

    func encode(baseOffset: Int64, into bytes: inout [UInt8]) {
        bytes.appendBigEndian(UInt32(offset - baseOffset))
        bytes.appendBigEndian(UInt32(position))
    }
}

/// A time-index entry: the largest batch timestamp up to here is `timestamp`, first reached by the batch
/// whose base offset is `offset` (every earlier batch has a smaller max timestamp).
struct TimeIndexEntry: IndexEntry {
    static let sizeBytes = 12
    var timestamp: Int64
    var offset: Int64

    init(timestamp: Int64, offset: Int64) {
        self.timestamp = timestamp
        self.offset = offset
    }

    init(decoding raw: UnsafeRawBufferPointer, baseOffset: Int64) {
        timestamp = Int64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        offset = baseOffset + Int64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
    }

    func encode(baseOffset: Int64, into bytes: inout [UInt8]) {
        bytes.appendBigEndian(UInt64(bitPattern: timestamp))
        bytes.appendBigEndian(UInt32(offset - baseOffset))
    }
}

/// A sparse index file: entries sorted by offset, searched by binary search with positional reads,
/// so an index costs no memory beyond its last entry. Entries are appended unsynced; a segment's
/// index files are synced with it when it stops being active, and rebuilt when recovery finds them off.
struct IndexFile<Entry: IndexEntry> {
    let file: any StorageFile
    let baseOffset: Int64
    private(set) var count: Int
    private(set) var last: Entry?

    /// Opens with as many whole entries as the file holds; `isConsistent` judges them.
    init(file: any StorageFile, baseOffset: Int64) throws {
        self.file = file
        self.baseOffset = baseOffset
        count = Int(try file.size()) / Entry.sizeBytes
        last = count > 0 ? try Self.read(file, baseOffset, at: count - 1) : nil
    }

    /// Whether the file is a whole number of entries.
    func hasWholeEntries() throws -> Bool {
        try file.size() == Int64(count * Entry.sizeBytes)
    }

    func entry(at index: Int) throws -> Entry {
        precondition(index >= 0 && index < count)
        return try Self.read(file, baseOffset, at: index)
    }

    func allEntries() throws -> [Entry] {
        let bytes = try file.read(at: 0, count: count * Entry.sizeBytes)
        return bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / Entry.sizeBytes)).map { i in
                Entry(decoding: UnsafeRawBufferPointer(rebasing: raw[(i * Entry.sizeBytes)...]), baseOffset: baseOffset)
            }
        }
    }

    mutating func append(_ entry: Entry) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Entry.sizeBytes)
        entry.encode(baseOffset: baseOffset, into: &bytes)
        try file.write(bytes, at: Int64(count * Entry.sizeBytes))
        count += 1
        last = entry
    }

    /// The last entry for which `isAtMost` holds, where `isAtMost` holds for a prefix of the entries.
    func lastEntry(where isAtMost: (Entry) -> Bool) throws -> Entry? {
        let satisfying = try prefixCount(where: isAtMost)
        return satisfying == 0 ? nil : try entry(at: satisfying - 1)
    }

    /// How many leading entries satisfy `isAtMost`, which holds for a prefix of the entries.
    func prefixCount(where isAtMost: (Entry) -> Bool) throws -> Int {
        var low = 0
        var high = count  // invariant: entries below `low` satisfy, entries from `high` do not
        while low < high {
            let middle = low + (high - low) / 2
            if isAtMost(try entry(at: middle)) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Keeps the entries for which `keep` holds, a prefix.
    mutating func truncate(keepingWhile keep: (Entry) -> Bool) throws {
        let kept = try prefixCount(where: keep)
        try file.truncate(to: Int64(kept * Entry.sizeBytes))
        count = kept
        last = kept > 0 ? try entry(at: kept - 1) : nil
    }

    mutating func removeAll() throws {
        try file.truncate(to: 0)
        count = 0
        last = nil
    }

    private static func read(_ file: any StorageFile, _ baseOffset: Int64, at index: Int) throws -> Entry {
        let bytes = try file.read(at: Int64(index * Entry.sizeBytes), count: Entry.sizeBytes)
        guard bytes.count == Entry.sizeBytes else { throw StorageError.io(operation: "read index", path: file.path, errno: 0) }
        return bytes.withUnsafeBytes { Entry(decoding: $0, baseOffset: baseOffset) }
    }
}

extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
