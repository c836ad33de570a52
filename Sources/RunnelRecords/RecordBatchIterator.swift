import NIOCore

/// Walks consecutive record batches in a buffer, as a log segment or a fetch response holds them.
/// A partial batch at the end (a torn write, or a fetch cut at its byte limit) ends the walk cleanly;
/// `trailingBytes` then says how many bytes it held. Anything unparsable before the end throws, and the
/// iterator stays at that batch so `position` marks where valid data stops.
public struct RecordBatchIterator: Sendable {
    /// One complete batch: its header, its absolute index in the walked buffer and a slice of its bytes.
    public struct Entry: Sendable {
        public let header: RecordBatchHeader
        public let index: Int
        public let bytes: ByteBuffer
    }

    private let buffer: ByteBuffer
    private let verifyingChecksums: Bool
    /// Absolute index of the next batch to read; after the walk ends, the end of the last complete batch.
    public private(set) var position: Int

    /// Walks the readable bytes of `buffer`. With `verifyingChecksums`, a batch whose CRC-32C does not
    /// match throws `checksumMismatch` (log recovery wants this; a fetch passthrough does not).
    public init(_ buffer: ByteBuffer, verifyingChecksums: Bool = false) {
        self.buffer = buffer
        self.verifyingChecksums = verifyingChecksums
        self.position = buffer.readerIndex
    }

    /// Bytes after `position`; non-zero once `next()` returned nil means a partial trailing batch.
    public var trailingBytes: Int { buffer.writerIndex - position }

    /// The next complete batch, or nil at the end of the buffer or at a partial trailing batch.
    public mutating func next() throws -> Entry? {
        let available = buffer.writerIndex - position
        guard available >= RecordBatchHeader.prefixBytes else { return nil }
        let header: RecordBatchHeader
        do {
            header = try RecordBatchHeader(parsing: buffer, at: position)
        } catch RecordBatchError.truncated {
            return nil
        }
        guard available >= header.totalSize else { return nil }
        if verifyingChecksums { try header.verifyChecksum(in: buffer, at: position) }
        let entry = Entry(
            header: header, index: position, bytes: buffer.getSlice(at: position, length: header.totalSize)!)
        position += header.totalSize
        return entry
    }

    /// All complete batches; throws at the first unparsable one.
    public mutating func collect() throws -> [Entry] {
        var entries: [Entry] = []
        while let entry = try next() { entries.append(entry) }
        return entries
    }
}
