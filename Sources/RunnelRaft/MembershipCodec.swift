// The byte form of a membership, carried in `.configChange` entries (and usable by a WAL for snapshot
// metadata). Layout, big-endian: version u8 = 1, voter count u32, voters, learner count u32, learners;
// each member is id u64, directory high u64, directory low u64.

extension Membership {
    static let codecVersion: UInt8 = 1
    /// Bounds decoding work on corrupt input; far above any real cluster.
    static let membersMax: UInt32 = 1024

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Membership.codecVersion]
        out.reserveCapacity(9 + 24 * (voters.count + learners.count))
        for group in [voters, learners] {
            appendUInt32(UInt32(group.count), to: &out)
            for member in group {
                appendUInt64(member.id.rawValue, to: &out)
                appendUInt64(member.directory.high, to: &out)
                appendUInt64(member.directory.low, to: &out)
            }
        }
        return out
    }

    /// Returns nil when `bytes` is not a membership written by `encoded()`.
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes: bytes)
        guard reader.readUInt8() == Membership.codecVersion else { return nil }
        var groups: [[Voter]] = []
        for _ in 0..<2 {
            guard let count = reader.readUInt32(), count <= Membership.membersMax else { return nil }
            var group: [Voter] = []
            for _ in 0..<count {
                guard let id = reader.readUInt64(), let high = reader.readUInt64(), let low = reader.readUInt64()
                else { return nil }
                group.append(Voter(id: NodeID(id), directory: DirectoryID(high: high, low: low)))
            }
            groups.append(group)
        }
        guard reader.isAtEnd else { return nil }
        self.init(voters: groups[0], learners: groups[1])
    }
}

private func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

private func appendUInt64(_ value: UInt64, to out: inout [UInt8]) {
    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func readUInt8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt32() -> UInt32? {
        guard bytes.count - offset >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(bytes[offset]); offset += 1 }
        return value
    }

    mutating func readUInt64() -> UInt64? {
        guard bytes.count - offset >= 8 else { return nil }
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(bytes[offset]); offset += 1 }
        return value
    }
}
