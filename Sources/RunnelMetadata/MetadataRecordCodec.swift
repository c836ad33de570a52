/// A compact binary form of metadata records: what the metadata log (local file now, Raft later) stores.
/// Layout: a version byte, a record-type byte, then the fields; integers big-endian, strings and arrays
/// with a 32-bit length (-1 for nil).
public enum MetadataRecordCodec {
    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "bad metadata record: \(reason)" }
    }

    static let version: UInt8 = 1

    public static func encode(_ record: MetadataRecord) -> [UInt8] {
        var w = Writer()
        w.u8(version)
        switch record {
        case .registerBroker(let b):
            w.u8(1); w.i32(b.id); w.uuid(b.directoryID); w.optionalString(b.rack)
            w.i32(Int32(b.endpoints.count))
            for e in b.endpoints { w.string(e.listener); w.string(e.host); w.i32(e.port) }
        case .topic(let name, let id):
            w.u8(2); w.string(name); w.uuid(id)
        case .partition(let p):
            w.u8(3); w.uuid(p.topicID); w.i32(p.partition); w.ids(p.replicas); w.ids(p.isr)
            w.i32(p.leader); w.i32(p.leaderEpoch); w.i32(p.partitionEpoch)
        case .partitionChange(let c):
            w.u8(4); w.uuid(c.topicID); w.i32(c.partition)
            w.u8(c.leader == nil ? 0 : 1); w.i32(c.leader ?? 0)
            w.u8(c.isr == nil ? 0 : 1); w.ids(c.isr ?? [])
        case .removeTopic(let id):
            w.u8(5); w.uuid(id)
        case .config(let resource, let name, let value):
            w.u8(6); w.u8(UInt8(resource.kind.rawValue)); w.string(resource.name); w.string(name); w.optionalString(value)
        case .producerIdBlock(let firstID, let size):
            w.u8(7); w.i64(firstID); w.i64(size)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> MetadataRecord {
        var r = Reader(bytes: bytes)
        guard try r.u8() == version else { throw DecodeError(reason: "unknown version") }
        let record: MetadataRecord
        switch try r.u8() {
        case 1:
            let id = try r.i32(), directory = try r.uuid(), rack = try r.optionalString()
            var endpoints: [Endpoint] = []
            for _ in 0..<(try r.count()) {
                endpoints.append(Endpoint(listener: try r.string(), host: try r.string(), port: try r.i32()))
            }
            record = .registerBroker(BrokerRegistration(id: id, directoryID: directory, endpoints: endpoints, rack: rack))
        case 2:
            record = .topic(name: try r.string(), id: try r.uuid())
        case 3:
            record = .partition(PartitionRecord(
                topicID: try r.uuid(), partition: try r.i32(), replicas: try r.ids(), isr: try r.ids(), leader: try r.i32(),
                leaderEpoch: try r.i32(), partitionEpoch: try r.i32()))
        case 4:
            let topic = try r.uuid(), partition = try r.i32()
            let hasLeader = try r.u8() == 1, leader = try r.i32()
            let hasISR = try r.u8() == 1, isr = try r.ids()
            record = .partitionChange(PartitionChange(
                topicID: topic, partition: partition, leader: hasLeader ? leader : nil, isr: hasISR ? isr : nil))
        case 5:
            record = .removeTopic(id: try r.uuid())
        case 6:
            guard let kind = ConfigResource.Kind(rawValue: Int8(bitPattern: try r.u8())) else {
                throw DecodeError(reason: "unknown config resource")
            }
            record = .config(resource: ConfigResource(kind, try r.string()), name: try r.string(), value: try r.optionalString())
        case 7:
            let firstID = try r.i64(), size = try r.i64()
            guard firstID >= 0, size > 0, firstID <= Int64.max - size else { throw DecodeError(reason: "bad producer id block") }
            record = .producerIdBlock(firstID: firstID, size: size)
        default:
            throw DecodeError(reason: "unknown record type")
        }
        guard r.atEnd else { throw DecodeError(reason: "trailing bytes") }
        return record
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func u8(_ v: UInt8) { bytes.append(v) }
        mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
        mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
        mutating func uuid(_ v: UUID128) { bytes.append(contentsOf: v.bytes) }
        mutating func string(_ s: String) { i32(Int32(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
        mutating func optionalString(_ s: String?) { if let s { string(s) } else { i32(-1) } }
        mutating func ids(_ ids: [BrokerID]) { i32(Int32(ids.count)); ids.forEach { i32($0) } }
    }

    struct Reader {
        let bytes: [UInt8]
        var position = 0
        var atEnd: Bool { position == bytes.count }

        mutating func take(_ n: Int) throws(DecodeError) -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - position >= n else { throw DecodeError(reason: "truncated") }
            defer { position += n }
            return bytes[position..<position + n]
        }
        mutating func u8() throws(DecodeError) -> UInt8 { try take(1).first! }
        mutating func i32() throws(DecodeError) -> Int32 {
            Int32(bitPattern: try take(4).reduce(0) { $0 << 8 | UInt32($1) })
        }
        mutating func i64() throws(DecodeError) -> Int64 {
            Int64(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) })
        }
        mutating func count() throws(DecodeError) -> Int {
            let n = Int(try i32())
            guard n >= 0, n <= bytes.count - position else { throw DecodeError(reason: "bad length") }
            return n
        }
        mutating func uuid() throws(DecodeError) -> UUID128 { UUID128(bytes: try take(16))! }
        mutating func string() throws(DecodeError) -> String {
            let n = try count()
            return String(decoding: try take(n), as: UTF8.self)
        }
        mutating func optionalString() throws(DecodeError) -> String? {
            let n = Int(try i32())
            if n == -1 { return nil }
            guard n >= 0 else { throw DecodeError(reason: "bad length") }
            return String(decoding: try take(n), as: UTF8.self)
        }
        mutating func ids() throws(DecodeError) -> [BrokerID] {
            var out: [BrokerID] = []
            for _ in 0..<(try count()) { out.append(try i32()) }
            return out
        }
    }
}
