import NIOCore

/// The header in front of every request body.
/// v0: apiKey, apiVersion, correlationId. v1 adds clientId. v2 adds a tagged-field section.
/// clientId stays a classic (int16-length) nullable string even in v2, as in Kafka.
public struct RequestHeader: Sendable, Equatable {
    public var apiKey: ApiKey
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    public init(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// Header version Kafka uses for a request of this API and version: 2 when the request
    /// version is flexible, otherwise 1. (Only ControlledShutdown v0 used header v0; we do not
    /// speak it.)
    public static func version(apiKey: ApiKey, apiVersion: Int16) -> Int16 {
        (apiKey.flexibleVersions?.contains(apiVersion) ?? false) ? 2 : 1
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let rawKey = try buffer.readKafkaInt16()
        guard let apiKey = ApiKey(rawValue: rawKey) else {
            throw WireError.unknownApiKey(rawKey)
        }
        self.apiKey = apiKey
        self.apiVersion = try buffer.readKafkaInt16()
        self.correlationId = try buffer.readKafkaInt32()
        self.clientId = nil
        if version >= 1 {
            self.clientId = try buffer.readKafkaNullableString(compact: false)
        }
        if version >= 2 {
            try buffer.skipTaggedFields()
        }
    }

    public func encode(into buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        buffer.writeKafkaInt16(apiKey.rawValue)
        buffer.writeKafkaInt16(apiVersion)
        buffer.writeKafkaInt32(correlationId)
        if version >= 1 {
            try buffer.writeKafkaNullableString(clientId, compact: false, field: "RequestHeader.clientId")
        }
        if version >= 2 {
            buffer.writeEmptyTaggedFields()
        }
    }
}

/// The header in front of every response body. v0: correlationId. v1 adds a tagged-field section.
public struct ResponseHeader: Sendable, Equatable {
    public var correlationId: Int32

    public init(correlationId: Int32) {
        self.correlationId = correlationId
    }

    /// Header version for a response of this API and version: 1 when flexible, else 0 — except
    /// ApiVersions, whose response header is always v0 so that a client that does not yet know
    /// the broker's versions can still parse it.
    public static func version(apiKey: ApiKey, apiVersion: Int16) -> Int16 {
        if apiKey == .apiVersions {
            return 0
        }
        return (apiKey.flexibleVersions?.contains(apiVersion) ?? false) ? 1 : 0
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.correlationId = try buffer.readKafkaInt32()
        if version >= 1 {
            try buffer.skipTaggedFields()
        }
    }

    public func encode(into buffer: inout ByteBuffer, version: Int16) {
        buffer.writeKafkaInt32(correlationId)
        if version >= 1 {
            buffer.writeEmptyTaggedFields()
        }
    }
}
