import NIOCore

/// A request decoded from one frame: its header and typed body.
public struct DecodedRequest: Sendable, Equatable {
    public var header: RequestHeader
    public var request: KafkaRequest
    /// Bytes left after the body. Kafka ignores them; we report them so the caller may log.
    public var trailingBytes: Int

    public init(header: RequestHeader, request: KafkaRequest, trailingBytes: Int = 0) {
        self.header = header
        self.request = request
        self.trailingBytes = trailingBytes
    }
}

/// Why a request frame could not be decoded, with what the broker needs to answer or to close.
public enum RequestFrameError: Error, Equatable, Sendable {
    /// Not even apiKey, apiVersion and correlationId could be read: close the connection.
    case malformedHeader(WireError)
    /// An API this codec does not know. Kafka closes the connection.
    case unknownApiKey(apiKey: Int16, apiVersion: Int16, correlationId: Int32)
    /// A known API at a version outside the codec's range. For ApiVersions the broker answers
    /// with a v0 response carrying UNSUPPORTED_VERSION; for others Kafka closes the connection.
    case unsupportedVersion(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32)
    /// The header was readable but the rest was not.
    case malformed(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, WireError)

    /// The correlation id to answer with, when one was read.
    public var correlationId: Int32? {
        switch self {
        case .malformedHeader: return nil
        case .unknownApiKey(_, _, let id), .unsupportedVersion(_, _, let id), .malformed(_, _, let id, _): return id
        }
    }
}

public enum RequestFrame {
    /// Decodes a whole frame payload (the 4-byte size prefix already removed).
    public static func decode(payload: ByteBuffer) throws(RequestFrameError) -> DecodedRequest {
        var buffer = payload
        guard buffer.readableBytes >= 8 else {
            throw RequestFrameError.malformedHeader(
                .truncated(neededBytes: 8, readableBytes: buffer.readableBytes))
        }
        // Peek at the fixed prefix shared by every header version before committing to one.
        let rawKey = buffer.getInteger(at: buffer.readerIndex, as: Int16.self)!
        let apiVersion = buffer.getInteger(at: buffer.readerIndex + 2, as: Int16.self)!
        let correlationId = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self)!
        guard let apiKey = ApiKey(rawValue: rawKey) else {
            throw RequestFrameError.unknownApiKey(apiKey: rawKey, apiVersion: apiVersion, correlationId: correlationId)
        }
        guard apiKey.versions.contains(apiVersion) else {
            throw RequestFrameError.unsupportedVersion(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId)
        }
        do {
            let headerVersion = RequestHeader.version(apiKey: apiKey, apiVersion: apiVersion)
            let header = try RequestHeader(from: &buffer, version: headerVersion)
            let request = try KafkaRequest.decode(apiKey: apiKey, version: apiVersion, from: &buffer)
            return DecodedRequest(header: header, request: request, trailingBytes: buffer.readableBytes)
        } catch {
            throw RequestFrameError.malformed(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId, error)
        }
    }

    /// Appends a size-prefixed request frame (client side). On error nothing is appended.
    public static func encode<Message: KafkaRequestMessage>(
        _ message: Message, version: Int16, correlationId: Int32, clientId: String?, into buffer: inout ByteBuffer
    ) throws(WireError) {
        let header = RequestHeader(
            apiKey: Message.apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId)
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        do {
            try header.encode(into: &buffer, version: RequestHeader.version(apiKey: Message.apiKey, apiVersion: version))
            try message.encode(into: &buffer, version: version)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        try patchSize(of: &buffer, frameStart: start)
    }
}

public enum ResponseFrame {
    /// Appends a size-prefixed response frame: size, header (version chosen for the API and
    /// version), body. On error nothing is appended.
    public static func encode(
        _ response: KafkaResponse, version: Int16, correlationId: Int32, into buffer: inout ByteBuffer
    ) throws(WireError) {
        try encodeFrame(apiKey: response.apiKey, version: version, correlationId: correlationId, into: &buffer) {
            (body: inout ByteBuffer) throws(WireError) in try response.encode(into: &body, version: version)
        }
    }

    /// Same as above for a concrete message type.
    public static func encode<Message: KafkaResponseMessage>(
        _ response: Message, version: Int16, correlationId: Int32, into buffer: inout ByteBuffer
    ) throws(WireError) {
        try encodeFrame(apiKey: Message.apiKey, version: version, correlationId: correlationId, into: &buffer) {
            (body: inout ByteBuffer) throws(WireError) in try response.encode(into: &body, version: version)
        }
    }

    private static func encodeFrame(
        apiKey: ApiKey, version: Int16, correlationId: Int32, into buffer: inout ByteBuffer,
        body: (inout ByteBuffer) throws(WireError) -> Void
    ) throws(WireError) {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        ResponseHeader(correlationId: correlationId).encode(
            into: &buffer, version: ResponseHeader.version(apiKey: apiKey, apiVersion: version))
        do {
            try body(&buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        try patchSize(of: &buffer, frameStart: start)
    }

    /// The correlation id at the front of a response payload, whatever its header version,
    /// so a client can find the pending request (and thus the type and version) first.
    public static func correlationId(of payload: ByteBuffer) -> Int32? {
        payload.getInteger(at: payload.readerIndex, as: Int32.self)
    }

    /// Decodes a response frame payload (size prefix removed) whose type and version the
    /// caller knows from the request it sent (client side).
    public static func decode<Message: KafkaResponseMessage>(
        _ type: Message.Type, version: Int16, payload: ByteBuffer
    ) throws(WireError) -> (header: ResponseHeader, message: Message) {
        var buffer = payload
        let header = try ResponseHeader(
            from: &buffer, version: ResponseHeader.version(apiKey: Message.apiKey, apiVersion: version))
        let message = try Message(from: &buffer, version: version)
        return (header, message)
    }
}

extension ByteBuffer {
    /// Splits one frame off the front: returns its payload once the 4-byte size and the whole
    /// payload are readable, nil while more bytes are needed. Sizes above `maxBytes` (or
    /// negative) throw, so a hostile size cannot make the caller buffer without bound.
    public mutating func readKafkaFrame(maxBytes: Int) throws(WireError) -> ByteBuffer? {
        guard let size = getInteger(at: readerIndex, as: Int32.self) else {
            return nil
        }
        guard size >= 0, Int(size) <= maxBytes else {
            throw WireError.invalidLength(Int(size))
        }
        guard readableBytes >= 4 + Int(size) else {
            return nil
        }
        moveReaderIndex(forwardBy: 4)
        return readSlice(length: Int(size))!
    }
}

private func patchSize(of buffer: inout ByteBuffer, frameStart: Int) throws(WireError) {
    let size = buffer.writerIndex - frameStart - 4
    guard size <= Int(Int32.max) else {
        buffer.moveWriterIndex(to: frameStart)
        throw WireError.valueTooLong(field: "frame", length: size)
    }
    buffer.setInteger(Int32(size), at: frameStart)
}
