/// Why a Kafka message could not be decoded or encoded. Errors are values; nothing read from the
/// network traps.
public enum WireError: Error, Equatable, Sendable {
    /// The input ended before a value was complete.
    case truncated(neededBytes: Int, readableBytes: Int)
    /// A length prefix was negative (other than null) or larger than the remaining input.
    case invalidLength(Int)
    /// An array length exceeded `WireLimits.arrayCountMax` or what the remaining input could hold.
    case arrayTooLarge(count: Int)
    /// A varint ran past its maximum width.
    case varintTooLong
    /// A null arrived (or was to be written) where this version does not allow one.
    case unexpectedNull(field: String)
    /// A string or byte array too long for its length prefix.
    case valueTooLong(field: String, length: Int)
    /// A non-default value in a field that this version cannot carry (Kafka: non-ignorable field).
    case fieldNotInVersion(field: String, version: Int16)
    /// The API key is not one this codec knows.
    case unknownApiKey(Int16)
    /// The version is outside the range this codec supports for the API.
    case unsupportedVersion(apiKey: ApiKey, version: Int16)

    /// The Kafka error code to answer with, where the protocol has one.
    public var errorCode: ErrorCode {
        switch self {
        case .unsupportedVersion, .fieldNotInVersion, .unknownApiKey:
            return .unsupportedVersion
        case .truncated, .invalidLength, .arrayTooLarge, .varintTooLong, .unexpectedNull, .valueTooLong:
            return .invalidRequest
        }
    }
}

/// Bounds applied while decoding so that a garbage length cannot make us allocate gigabytes.
public enum WireLimits {
    /// Largest element count accepted for any array. A cluster-wide metadata response for a
    /// large cluster (~200k partitions) fits comfortably; 2^31 garbage does not.
    public static let arrayCountMax = 1 << 20
    /// Capacity reserved up front for a decoded array; larger arrays grow as elements arrive,
    /// so memory stays proportional to bytes actually received.
    public static let arrayReserveMax = 256
}
