import RunnelChecksum
import RunnelRaft

/// A snapshot on disk: magic "RSNP", the core's byte form of the snapshot (`Snapshot.encoded()`), then
/// CRC-32C u32 of everything before it. Written whole with `FileSystem.writeAtomically`.
enum SnapshotFile {
    static let magic: [UInt8] = Array("RSNP".utf8)

    static func name(index: LogIndex, term: Term) -> String {
        "snapshot-\(hex16(index.rawValue))-\(hex16(term.rawValue)).snap"
    }

    /// The (index, term) a file name stands for, or nil for other names.
    static func parse(name: String) -> (index: LogIndex, term: Term)? {
        guard name.hasPrefix("snapshot-"), name.hasSuffix(".snap") else { return nil }
        let middle = name.dropFirst("snapshot-".count).dropLast(".snap".count)
        let parts = middle.split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 16,
            let index = UInt64(parts[0], radix: 16), let term = UInt64(parts[1], radix: 16)
        else { return nil }
        return (LogIndex(index), Term(term))
    }

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var out = ByteWriter()
        out.bytes.append(contentsOf: magic)
        out.bytes.append(contentsOf: snapshot.encoded())
        out.write(CRC32C.checksum(out.bytes))
        return out.bytes
    }

    static func decode(_ bytes: [UInt8]) -> Snapshot? {
        guard bytes.count >= magic.count + 4, Array(bytes.prefix(magic.count)) == magic else { return nil }
        var trailer = ByteReader(bytes[(bytes.count - 4)...])
        guard CRC32C.checksum(bytes[..<(bytes.count - 4)]) == trailer.readUInt32() else { return nil }
        return Snapshot(decoding: Array(bytes[magic.count..<(bytes.count - 4)]))
    }
}

/// The identity of a data directory: magic "RNID", version u8, node id u64, directory id (u64, u64),
/// CRC-32C u32. A directory answers only for the node it was formatted for.
public struct DirectoryIdentity: Hashable, Sendable {
    public var nodeID: NodeID
    public var directoryID: DirectoryID
    public init(nodeID: NodeID, directoryID: DirectoryID) {
        self.nodeID = nodeID
        self.directoryID = directoryID
    }

    static let fileName = "identity"
    static let magic: [UInt8] = Array("RNID".utf8)
    static let version: UInt8 = 1

    func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.bytes.append(contentsOf: Self.magic)
        out.write(Self.version)
        out.write(nodeID.rawValue)
        out.write(directoryID.high)
        out.write(directoryID.low)
        out.write(CRC32C.checksum(out.bytes))
        return out.bytes
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.magic.count + 1 + 24 + 4, Array(bytes.prefix(4)) == Self.magic else { return nil }
        var reader = ByteReader(bytes[4...])
        guard reader.readUInt8() == Self.version, let node = reader.readUInt64(), let high = reader.readUInt64(), let low = reader.readUInt64(),
            CRC32C.checksum(bytes[..<(bytes.count - 4)]) == reader.readUInt32()
        else { return nil }
        self.init(nodeID: NodeID(node), directoryID: DirectoryID(high: high, low: low))
    }
}

extension DirectoryID {
    /// A fresh, non-`none` directory id drawn from the caller's generator (seeded in simulation).
    public static func random<R: RandomNumberGenerator>(using generator: inout R) -> DirectoryID {
        while true {
            let id = DirectoryID(high: generator.next(), low: generator.next())
            if id != .none { return id }
        }
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
