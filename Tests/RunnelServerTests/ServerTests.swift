import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import RunnelServer

/// The shell over real loopback sockets.
final class ServerTests: XCTestCase {
    private func makeServer(
        handler: any RequestHandling, connectionsMax: Int = 100, graceMs: Int64 = 5_000,
        metrics: PrometheusMetricsFactory? = nil, logs: CapturedLogs = CapturedLogs()
    ) async throws -> (Server, Int) {
        let listeners = [Listener(name: "CLIENT", host: "127.0.0.1", port: 0)]
        let config = NetworkConfig(
            listeners: listeners, advertisedListeners: listeners,
            metricsListener: metrics == nil ? nil : HostPort(host: "127.0.0.1", port: 0),
            connectionsMax: connectionsMax, shutdownGraceMs: graceMs)
        let server = Server(config: config, handler: handler, metrics: metrics, logger: logs.logger())
        let bound = try await server.start()
        return (server, bound[0].port)
    }

    private func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Reads until `count` bytes arrived or the peer closed; returns what arrived.
    /// One iterator per stream: NIO allows only one.
    private func read(
        _ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, bytes count: Int
    ) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        while collected.readableBytes < count, var chunk = try await inbound.next() {
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    func testAHundredHalfOpenConnectionsDoNotHoldUpAnotherClient() async throws {
        let (server, port) = try await makeServer(handler: RecordingHandler(), connectionsMax: 200)
        // Each of these announces a 1 MiB frame, sends 10 bytes of it and then says nothing more.
        var stalled: [NIOAsyncChannel<ByteBuffer, ByteBuffer>] = []
        for _ in 0..<100 {
            let channel = try await connect(port: port)
            var partial = ByteBuffer()
            partial.writeInteger(Int32(1 << 20))
            partial.writeBytes([UInt8](repeating: 7, count: 10))
            try await channel.channel.writeAndFlush(partial)
            stalled.append(channel)
        }
        let client = try await connect(port: port)
        try await client.executeThenClose { inboundStream, outbound in
            var inbound = inboundStream.makeAsyncIterator()
            for number in Int32(1)...200 {
                try await outbound.write(frame(number: number))
                var answer = try await read(&inbound, bytes: 8)
                XCTAssertEqual(answer.readInteger(as: Int32.self), 4)
                XCTAssertEqual(answer.readInteger(as: Int32.self), number)
            }
        }
        XCTAssertGreaterThanOrEqual(server.connectionCount, 100, "the stalled connections are still open, costing little")
        for channel in stalled { try? await channel.channel.close() }
        await server.shutdown()
    }

    func testResponsesComeBackInRequestOrderOverTCP() async throws {
        let handler = GatedHandler()
        let (server, port) = try await makeServer(handler: handler)
        let client = try await connect(port: port)
        try await client.executeThenClose { inboundStream, outbound in
            var inbound = inboundStream.makeAsyncIterator()
            var bytes = frame(number: 1)
            var more = [frame(number: 2), frame(number: 3)]
            for index in more.indices { bytes.writeBuffer(&more[index]) }
            try await outbound.write(bytes)
            try await handler.waitForReceived(3)
            handler.release(2)
            handler.release(3)
            handler.release(1)
            var answers = try await read(&inbound, bytes: 24)
            var numbers: [Int32] = []
            while let size = answers.readInteger(as: Int32.self), let number = answers.readInteger(as: Int32.self) {
                XCTAssertEqual(size, 4)
                numbers.append(number)
            }
            XCTAssertEqual(numbers, [1, 2, 3])
        }
        await server.shutdown()
    }

    func testShutdownLetsTheInFlightRequestFinishThenCloses() async throws {
        let handler = GatedHandler()
        let (server, port) = try await makeServer(handler: handler)
        let client = try await connect(port: port)
        try await client.executeThenClose { inboundStream, outbound in
            var inbound = inboundStream.makeAsyncIterator()
            try await outbound.write(frame(number: 1))
            try await handler.waitForReceived(1)
            let shutdown = Task { await server.shutdown() }
            try await Task.sleep(for: .milliseconds(50))
            handler.release(1)
            var answer = try await read(&inbound, bytes: 8)
            XCTAssertEqual(answer.readInteger(as: Int32.self), 4)
            XCTAssertEqual(answer.readInteger(as: Int32.self), 1)
            await shutdown.value
            let rest = try await read(&inbound, bytes: 1)
            XCTAssertEqual(rest.readableBytes, 0, "the connection is closed after its answer")
        }
        XCTAssertEqual(server.connectionCount, 0)
    }

    func testShutdownClosesBusyConnectionsAfterTheGracePeriod() async throws {
        let handler = GatedHandler()
        let (server, port) = try await makeServer(handler: handler, graceMs: 100)
        let client = try await connect(port: port)
        try await client.executeThenClose { inboundStream, outbound in
            var inbound = inboundStream.makeAsyncIterator()
            try await outbound.write(frame(number: 1))
            try await handler.waitForReceived(1)
            await server.shutdown()
            let rest = try await read(&inbound, bytes: 1)
            XCTAssertEqual(rest.readableBytes, 0)
        }
        handler.release(1)
    }

    func testConnectionsBeyondTheLimitAreClosedAtOnce() async throws {
        let handler = RecordingHandler()
        let (server, port) = try await makeServer(handler: handler, connectionsMax: 1)
        let first = try await connect(port: port)
        try await first.executeThenClose { firstInboundStream, firstOutbound in
            var firstInbound = firstInboundStream.makeAsyncIterator()
            try await firstOutbound.write(frame(number: 5))
            _ = try await read(&firstInbound, bytes: 8)
            let second = try await connect(port: port)
            try await second.executeThenClose { inboundStream, _ in
                var inbound = inboundStream.makeAsyncIterator()
                let rest = try await read(&inbound, bytes: 1)
                XCTAssertEqual(rest.readableBytes, 0, "the second connection is refused")
            }
        }
        await server.shutdown()
    }

    func testMetricsEndpointServesPrometheusText() async throws {
        let factory = PrometheusMetricsFactory()
        let (server, port) = try await makeServer(handler: RecordingHandler(), metrics: factory)
        let kafka = try await connect(port: port)
        try await kafka.executeThenClose { inboundStream, outbound in
            var inbound = inboundStream.makeAsyncIterator()
            try await outbound.write(frame(number: 1))
            _ = try await read(&inbound, bytes: 8)
        }
        let metricsPort = try XCTUnwrap(server.metricsPort)
        let http = try await connect(port: metricsPort)
        let reply = try await http.executeThenClose { inboundStream, outbound in
            try await outbound.write(ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n"))
            var collected = ByteBuffer()
            for try await var chunk in inboundStream { collected.writeBuffer(&chunk) }
            return String(buffer: collected)
        }
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200 OK"), reply)
        XCTAssertTrue(reply.contains("text/plain; version=0.0.4"), reply)
        XCTAssertTrue(reply.contains("runnel_connections_accepted_total 1\n"), reply)
        XCTAssertTrue(reply.contains("# TYPE runnel_request_duration_seconds histogram"), reply)
        await server.shutdown()
    }
}
