import RunnelChecksum
import RunnelRaft

/// One record of the write-ahead log.
public enum WALRecord: Hashable, Sendable {
    /// A log entry at the end of the log (after any truncation record that precedes it).
    case entry(Entry)
    case hardState(HardState)
    /// The log now starts at this snapshot (stored in its own file) and holds no entries; entries the
    /// log keeps after it are written again right after this record.
    case snapshot(index: LogIndex, term: Term)
    /// Entries at `from` and above are removed: a conflicting suffix the leader overwrote.
    case truncate(from: LogIndex)
}

/// Frame: body length u32, CRC-32C of the body u32, body (record type u8, payload). Big-endian.
enum WALFrame {
    static let headerBytes = 8
    /// Bounds allocation on a corrupt length; an entry never comes near it.
    static let bodyBytesMax = 64 << 20
    static let entryDataBytesMax = bodyBytesMax - 64

    enum RecordType: UInt8 {
        case entry = 1
        case hardState = 2
        case snapshot = 3
        case truncate = 4
    }

    static func append(_ record: WALRecord, to out: inout [UInt8]) {
        // Entries and hard states use the core's byte forms (RaftCodec), so there is one of each.
        var body = ByteWriter()
        switch record {
        case .entry(let entry):
            precondition(entry.data.count <= entryDataBytesMax, "entry too large for one WAL record")
            body.write(RecordType.entry.rawValue)
            body.bytes.append(contentsOf: entry.encoded())
        case .hardState(let state):
            body.write(RecordType.hardState.rawValue)
            body.bytes.append(contentsOf: state.encoded())
        case .snapshot(let index, let term):
            body.write(RecordType.snapshot.rawValue)
            body.write(index.rawValue)
            body.write(term.rawValue)
        case .truncate(let from):
            body.write(RecordType.truncate.rawValue)
            body.write(from.rawValue)
        }
        var header = ByteWriter()
        header.write(UInt32(body.bytes.count))
        header.write(CRC32C.checksum(body.bytes))
        out.append(contentsOf: header.bytes)
        out.append(contentsOf: body.bytes)
    }

    enum Decoded: Equatable {
        case record(WALRecord, end: Int)
        /// The frame runs past the end of the bytes: a write cut short by a crash.
        case incomplete
        /// The frame fits but its checksum is wrong (or its length is absurd).
        case checksumMismatch(end: Int)
        /// The checksum holds but the body is not a record this code writes.
        case malformed(String)
    }

    static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
        guard bytes.count - offset >= headerBytes else { return .incomplete }
        var header = ByteReader(bytes[offset..<offset + headerBytes])
        let length = Int(header.readUInt32()!)
        let crc = header.readUInt32()!
        // A zero length is never written: it is what a preallocated or zero-filled tail looks like.
        guard length > 0 else { return .incomplete }
        guard length <= bodyBytesMax else { return .checksumMismatch(end: bytes.count) }
        let end = offset + headerBytes + length
        guard end <= bytes.count else { return .incomplete }
        let body = bytes[(offset + headerBytes)..<end]
        guard CRC32C.checksum(body) == crc else { return .checksumMismatch(end: end) }
        guard let record = decodeBody(body) else {
            return .malformed("undecodable record body of \(length) bytes")
        }
        return .record(record, end: end)
    }

    static func decodeBody(_ body: ArraySlice<UInt8>) -> WALRecord? {
        var reader = ByteReader(body)
        guard let raw = reader.readUInt8(), let type = RecordType(rawValue: raw) else { return nil }
        let record: WALRecord
        switch type {
        case .entry:
            guard let entry = Entry(decoding: Array(body.dropFirst())) else { return nil }
            return .entry(entry)
        case .hardState:
            guard let state = HardState(decoding: Array(body.dropFirst())) else { return nil }
            return .hardState(state)
        case .snapshot:
            guard let index = reader.readUInt64(), let term = reader.readUInt64() else { return nil }
            record = .snapshot(index: LogIndex(index), term: Term(term))
        case .truncate:
            guard let from = reader.readUInt64() else { return nil }
            record = .truncate(from: LogIndex(from))
        }
        return reader.isAtEnd ? record : nil
    }
}
