/// Kafka's 128-bit UUID (topic IDs, directory IDs), kept as two big-endian halves.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero UUID, which Kafka uses as "no ID".
    public static let zero = KafkaUUID(high: 0, low: 0)

    public var isZero: Bool { high == 0 && low == 0 }

    /// URL-safe base64 without padding, the form Kafka tools print (22 characters).
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = (b0 << 16) | (b1 << 8) | b2
            let available = min(3, bytes.count - index)
            for k in 0...available {
                out.append(alphabet[Int((triple >> UInt32(18 - 6 * k)) & 0x3F)])
            }
            index += 3
        }
        return out
    }
}
