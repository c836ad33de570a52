import NIOCore

/// Why a connection's byte stream cannot be split into Kafka frames.
public enum FrameError: Error, Equatable, CustomStringConvertible, Sendable {
    case negativeSize(Int32)
    case sizeOverLimit(size: Int32, limit: Int32)

    public var description: String {
        switch self {
        case .negativeSize(let size):
            return "frame declares a negative size \(size)"
        case .sizeOverLimit(let size, let limit):
            return "frame declares \(size) bytes, more than socket.request.max.bytes \(limit)"
        }
    }
}

/// Splits the stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
/// Emits the frame's payload without the size. A size that is negative or above the limit is an error,
/// raised as soon as the 4 size bytes arrive, before any payload is buffered.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let frameBytesMax: Int32

    public init(frameBytesMax: Int32) {
        precondition(frameBytesMax >= 0, "frame limit must not be negative")
        self.frameBytesMax = frameBytesMax
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else {
            return nil
        }
        if size < 0 {
            throw FrameError.negativeSize(size)
        }
        if size > frameBytesMax {
            throw FrameError.sizeOverLimit(size: size, limit: frameBytesMax)
        }
        guard buffer.readableBytes >= 4 + Int(size) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        // A partial frame at EOF is dropped: the peer went away mid-request and nobody is there to answer.
        try decode(buffer: &buffer)
    }
}
