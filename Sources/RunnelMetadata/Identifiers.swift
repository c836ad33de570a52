/// A 128-bit id: topic ids, directory ids, the cluster id. Kafka shows them as 22-character base64url.
public struct UUID128: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    public static let zero = UUID128(high: 0, low: 0)

    /// A random version-4 UUID from the generator the caller owns (the core draws no randomness itself).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> UUID128 {
        var high = generator.next() as UInt64, low = generator.next() as UInt64
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // RFC 4122 variant
        return UUID128(high: high, low: low)
    }

    public static func < (a: UUID128, b: UUID128) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let array = Array(bytes)
        high = array[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = array[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// 32 lowercase hex digits: used in directory names.
    public var hex: String {
        bytes.map { b in String(b >> 4, radix: 16) + String(b & 0xF, radix: 16) }.joined()
    }

    public init?(hex: String) {
        guard hex.utf8.count == 32 else { return nil }
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let a = iterator.next(), let b = iterator.next() {
            guard let hi = Self.nibble(a), let lo = Self.nibble(b) else { return nil }
            out.append(hi << 4 | lo)
        }
        self.init(bytes: out)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Kafka's display form: base64url without padding (22 characters).
    public var base64: String {
        var out: [UInt8] = []
        let b = bytes + [0, 0]
        var i = 0
        while i < 16 {
            let n = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out.append(Self.alphabet[Int(n >> 18 & 63)])
            out.append(Self.alphabet[Int(n >> 12 & 63)])
            if i + 1 < 16 { out.append(Self.alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < 16 { out.append(Self.alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(base64: String) {
        var bits: UInt32 = 0, count = 0
        var out: [UInt8] = []
        for c in base64.utf8 {
            guard let v = Self.alphabet.firstIndex(of: c) else { return nil }
            bits = bits << 6 | UInt32(v)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        self.init(bytes: out)
    }

    public var description: String { base64 }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

public typealias TopicID = UUID128
public typealias BrokerID = Int32

public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) { self.topic = topic; self.partition = partition }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    public var description: String { "\(topic)-\(partition)" }
}
