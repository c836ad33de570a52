// The byte form of a membership, carried in `.configChange` entries (and usable by a WAL for snapshot
// metadata). Layout, big-endian: version u8 = 1, voter count u32, voters, learner count u32, learners;
// each member is id u64, directory high u64, directory low u64.

extension Membership {
    static let codecVersion: UInt8 = 1
    static let memberBytes = 24

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Returns nil when `bytes` is not a membership written by `encoded()`.
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let membership = Membership(from: &reader), reader.isAtEnd else { return nil }
        self = membership
    }

    func write(to writer: inout ByteWriter) {
        writer.write(Membership.codecVersion)
        for group in [voters, learners] {
            writer.write(UInt32(group.count))
            for member in group {
                writer.write(member.id.rawValue)
                writer.write(member.directory.high)
                writer.write(member.directory.low)
            }
        }
    }

    init?(from reader: inout ByteReader) {
        guard reader.readUInt8() == Membership.codecVersion else { return nil }
        var groups: [[Voter]] = []
        for _ in 0..<2 {
            guard let count = reader.readCount(itemBytesMin: Membership.memberBytes) else { return nil }
            var group: [Voter] = []
            group.reserveCapacity(count)
            for _ in 0..<count {
                guard let id = reader.readUInt64(), let high = reader.readUInt64(), let low = reader.readUInt64()
                else { return nil }
                group.append(Voter(id: NodeID(id), directory: DirectoryID(high: high, low: low)))
            }
            groups.append(group)
        }
        self.init(voters: groups[0], learners: groups[1])
    }
}
