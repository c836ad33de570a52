import NIOCore

/// What every generated message provides.
public protocol KafkaMessage: Sendable, Equatable {
    static var apiKey: ApiKey { get }
    /// The versions this codec encodes and decodes (a subset of the spec's validVersions).
    static var versions: ClosedRange<Int16> { get }
    /// Versions using compact encodings and tagged fields; nil if none in `versions`.
    static var flexibleVersions: PartialRangeFrom<Int16>? { get }
    init()
    /// Decodes the message body; throws `.unsupportedVersion` outside `versions`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)
    /// Encodes the message body; throws `.unsupportedVersion` outside `versions` and
    /// `.fieldNotInVersion` for a non-default value the version cannot carry.
    func encode(into buffer: inout ByteBuffer, version: Int16) throws(WireError)
}

public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaResponseMessage
}

public protocol KafkaResponseMessage: KafkaMessage {}

extension KafkaMessage {
    public static func isFlexible(version: Int16) -> Bool {
        flexibleVersions?.contains(version) ?? false
    }
}

