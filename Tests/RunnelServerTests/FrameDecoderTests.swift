import NIOCore
import NIOEmbedded
import XCTest

@testable import RunnelServer

final class FrameDecoderTests: XCTestCase {
    private func makeChannel(limit: Int32 = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(frameBytesMax: limit)))
        return channel
    }

    private func frame(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    func testFrameSplitAcrossReadsIsReassembled() throws {
        let channel = try makeChannel()
        var bytes = frame([1, 2, 3, 4, 5])
        for _ in 0..<bytes.readableBytes {
            XCTAssertNil(try channel.readInbound(as: ByteBuffer.self))
            try channel.writeInbound(bytes.readSlice(length: 1)!)
        }
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self))
        _ = try channel.finish()
    }

    func testSeveralFramesInOneReadComeOutSeparately() throws {
        let channel = try makeChannel()
        var bytes = frame([1])
        var second = frame([])
        var third = frame([7, 8])
        bytes.writeBuffer(&second)
        bytes.writeBuffer(&third)
        try channel.writeInbound(bytes)
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(bytes: [1]))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer())
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self), ByteBuffer(bytes: [7, 8]))
        _ = try channel.finish()
    }

    func testOversizedFrameIsRejectedBeforeItsPayloadArrives() throws {
        let channel = try makeChannel(limit: 16)
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(17))
        XCTAssertThrowsError(try channel.writeInbound(bytes)) { error in
            XCTAssertEqual(error as? FrameError, .sizeOverLimit(size: 17, limit: 16))
        }
    }

    func testNegativeFrameSizeIsRejected() throws {
        let channel = try makeChannel()
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(-1))
        XCTAssertThrowsError(try channel.writeInbound(bytes)) { error in
            XCTAssertEqual(error as? FrameError, .negativeSize(-1))
        }
    }

    func testOversizedFrameClosesTheConnectionWithoutCallingTheHandler() throws {
        let channel = EmbeddedChannel()
        let handler = RecordingHandler()
        var config = NetworkConfig(listeners: [], advertisedListeners: [])
        config.requestBytesMax = 1024
        try channel.pipeline.syncOperations.addHandlers(
            Server.connectionHandlers(
                config: config, handler: handler, listenerName: "CLIENT", connectionId: 1, metrics: nil,
                logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567)).wait()
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(1025))
        try channel.writeInbound(bytes)
        XCTAssertFalse(channel.isActive)
        XCTAssertEqual(handler.frames.count, 0)
    }
}
