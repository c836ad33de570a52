import NIOCore
@testable import RunnelWire

/// A generated message type that can build a sample of itself for any version in its range:
/// every field the version carries set to a non-default value, or (with `nulls`) nullable
/// fields set to null.
protocol SampledMessage: KafkaMessage {
    static func sample(version: Int16, nulls: Bool) -> Self
}
