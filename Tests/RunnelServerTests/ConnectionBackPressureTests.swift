import Logging
import NIOCore
import NIOEmbedded
import XCTest

@testable import RunnelServer

/// Reads stop while a connection's unsent responses are over their bound (item 6 of issue 12).
final class ConnectionBackPressureTests: XCTestCase {
    private func makeChannel(handler: any RequestHandling) async throws -> (NIOAsyncTestingChannel, ReadCounter) {
        let config = NetworkConfig(listeners: [], advertisedListeners: [])
        let counter = ReadCounter()
        let channel = NIOAsyncTestingChannel()
        let logger = CapturedLogs().logger()
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandlers(
                Server.connectionHandlers(
                    config: config, handler: handler, listenerName: "CLIENT", connectionId: 1, metrics: nil,
                    logger: logger))
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567))
        return (channel, counter)
    }

    private func reads(_ channel: NIOAsyncTestingChannel, _ counter: ReadCounter) async throws -> Int {
        try await channel.eventLoop.submit { counter.reads }.get()
    }

    private func setWritable(_ channel: NIOAsyncTestingChannel, _ writable: Bool) async throws {
        try await channel.eventLoop.submit {
            channel.isWritable = writable
            channel.pipeline.fireChannelWritabilityChanged()
        }.get()
    }

    func testNoReadsWhileUnsentResponsesAreOverTheBoundAndOneWhenTheyDrain() async throws {
        let handler = RecordingHandler()
        let (channel, counter) = try await makeChannel(handler: handler)
        try await channel.writeInbound(frame(number: 1))
        var size = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(size.readInteger(as: Int32.self), 4)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)

        // The socket did not take the answer: NIO's outbound buffer is over its high watermark.
        try await setWritable(channel, false)
        let before = try await reads(channel, counter)
        channel.read()
        channel.read()
        let whileFull = try await reads(channel, counter)
        XCTAssertEqual(whileFull, before, "a client that does not read its answers gets no more requests read")
        // Bytes of the last read are not answered either while the answers do not leave.
        try await channel.writeInbound(frame(number: 2))
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(handler.frames.count, 1, "no new answer is made while the unsent ones are over the bound")

        try await setWritable(channel, true)
        let afterDrain = try await reads(channel, counter)
        XCTAssertEqual(afterDrain, before + 1, "the held-back read is issued once the answers drain")
        size = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(size.readInteger(as: Int32.self), 4)
        var second = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(second.readInteger(as: Int32.self), 2)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }
}
