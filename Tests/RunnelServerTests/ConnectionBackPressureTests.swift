import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import XCTest

@testable import RunnelServer

/// Reads stop while a connection's unsent responses are over their bound (item 6 of issue 12).
final class ConnectionBackPressureTests: XCTestCase {
    private func makeChannel(handler: any RequestHandling, idleMs: Int64 = 60_000) async throws -> (NIOAsyncTestingChannel, ReadCounter) {
        var config = NetworkConfig(listeners: [], advertisedListeners: [])
        config.connectionIdleMs = idleMs
        let configured = config
        let counter = ReadCounter()
        let channel = NIOAsyncTestingChannel()
        let logger = CapturedLogs().logger()
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandlers(
                Server.connectionHandlers(
                    config: configured, handler: handler, listenerName: "CLIENT", connectionId: 1, metrics: nil,
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

    func testAConnectionWhoseAnswersGoUnreadForTheIdleTimeoutIsClosed() async throws {
        let handler = GatedHandler()
        let (channel, _) = try await makeChannel(handler: handler, idleMs: 1000)
        try await channel.writeInbound(frame(number: 1))
        try await channel.writeInbound(frame(number: 2))
        try await handler.waitForReceived(1)
        try await setWritable(channel, false)
        handler.release(1)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(500))
        XCTAssertTrue(channel.isActive, "a slow reader is not closed before the timeout")
        await channel.testingEventLoop.advanceTime(by: .milliseconds(1500))
        XCTAssertFalse(channel.isActive, "answers unread for the whole idle timeout close the connection")
        handler.release(2)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }
}

/// One request byte budget for all connections (item 7 of issue 12, Kafka's `queued.max.request.bytes`).
final class RequestMemoryBudgetTests: XCTestCase {
    private func makeChannel(
        handler: any RequestHandling, connectionId: UInt64, pool: RequestMemoryPool, metrics: ServerMetrics? = nil
    ) async throws -> (NIOAsyncTestingChannel, ReadCounter) {
        let config = NetworkConfig(listeners: [], advertisedListeners: [])
        let counter = ReadCounter()
        let channel = NIOAsyncTestingChannel()
        let logger = CapturedLogs().logger()
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandlers(
                Server.connectionHandlers(
                    config: config, handler: handler, listenerName: "CLIENT", connectionId: connectionId,
                    requestMemory: pool, metrics: metrics, logger: logger))
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567))
        return (channel, counter)
    }

    private func reads(_ channel: NIOAsyncTestingChannel, _ counter: ReadCounter) async throws -> Int {
        try await channel.eventLoop.submit { counter.reads }.get()
    }

    func testASecondConnectionWaitsWhileTheFirstHoldsTheWholeBudgetAndGoesOnWhenItIsAnswered() async throws {
        let logs = CapturedLogs()
        let factory = PrometheusMetricsFactory()
        // Test frames are 8 bytes with their size: one fills this budget.
        let pool = RequestMemoryPool(bytesMax: 8, logger: logs.logger())
        let first = GatedHandler()
        let second = GatedHandler()
        let (channelA, _) = try await makeChannel(handler: first, connectionId: 1, pool: pool)
        let (channelB, counterB) = try await makeChannel(
            handler: second, connectionId: 2, pool: pool, metrics: ServerMetrics(factory: factory))
        try await channelA.writeInbound(frame(number: 1))
        try await first.waitForReceived(1)
        XCTAssertEqual(pool.usedBytes, 8, "a request is charged with its size field and payload")

        try await channelB.writeInbound(frame(number: 2))
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(second.received, [], "the second connection's request waits for room in the budget")
        XCTAssertEqual(pool.waitingConnections, 1)
        let readsBefore = try await reads(channelB, counterB)
        channelB.read()
        let readsWhileMuted = try await reads(channelB, counterB)
        XCTAssertEqual(readsWhileMuted, readsBefore, "a connection without room reads nothing more")
        XCTAssertTrue(factory.render().contains("runnel_request_memory_refusals_total 1\n"), factory.render())
        XCTAssertTrue(logs.all.contains { $0.0 == .warning && $0.1.contains("request memory budget spent") }, "\(logs.all)")

        first.release(1)
        var size = try await channelA.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(size.readInteger(as: Int32.self), 4)
        _ = try await channelA.waitForOutboundWrite(as: ByteBuffer.self)
        await channelB.testingEventLoop.run()
        try await second.waitForReceived(1)
        XCTAssertEqual(second.received, [2], "answering the first request made room for the second")
        let readsAfter = try await reads(channelB, counterB)
        XCTAssertEqual(readsAfter, readsBefore + 1, "the held-back read is issued once the request is taken")
        second.release(2)
        size = try await channelB.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(size.readInteger(as: Int32.self), 4)
        _ = try await channelB.waitForOutboundWrite(as: ByteBuffer.self)
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertEqual(pool.usedBytes, 0)
        _ = try await channelA.finish(acceptAlreadyClosed: true)
        _ = try await channelB.finish(acceptAlreadyClosed: true)
    }

    func testAClosedConnectionGivesBackWhatItHeldIncludingAHalfReceivedRequest() async throws {
        let pool = RequestMemoryPool(bytesMax: 1 << 20, logger: CapturedLogs().logger())
        let handler = GatedHandler()
        let (channel, _) = try await makeChannel(handler: handler, connectionId: 1, pool: pool)
        try await channel.writeInbound(frame(number: 1))
        var partial = ByteBuffer()
        partial.writeInteger(Int32(1000))
        partial.writeBytes([1, 2, 3])
        try await channel.writeInbound(partial)
        try await handler.waitForReceived(1)
        XCTAssertEqual(pool.usedBytes, 8 + 1004, "a frame is charged its announced size as soon as the size arrives")
        _ = try await channel.finish(acceptAlreadyClosed: true)
        handler.release(1)
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertEqual(pool.usedBytes, 0)
    }

    func testTheScannerFindsEverySizeFieldHoweverTheStreamIsCut() {
        var stream = ByteBuffer()
        for size in [Int32(0), 5, 1, 300] {
            stream.writeInteger(size)
            stream.writeBytes([UInt8](repeating: 9, count: Int(size)))
        }
        stream.writeInteger(Int32(-7))
        for cut in [1, 2, 3, 5, 7, 64, stream.readableBytes] {
            var scanner = FrameHeaderScanner()
            var rest = stream
            var sizes: [Int32] = []
            while rest.readableBytes > 0 {
                var piece = rest.readSlice(length: min(cut, rest.readableBytes))!
                while piece.readableBytes > 0 {
                    let (scanned, size) = scanner.scan(piece)
                    piece.moveReaderIndex(forwardBy: scanned)
                    if let size { sizes.append(size) }
                }
            }
            XCTAssertEqual(sizes, [0, 5, 1, 300, -7], "cut every \(cut) bytes")
        }
    }
}

final class DefaultMetricsListenerBindTests: XCTestCase {
    func testABrokerStartsWithoutMetricsWhenTheDefaultMetricsPortIsTaken() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(taken.localAddress?.port)
        let listeners = [Listener(name: "CLIENT", host: "127.0.0.1", port: 0)]
        var config = NetworkConfig(
            listeners: listeners, advertisedListeners: listeners, metricsListener: HostPort(host: "127.0.0.1", port: port))
        config.metricsListenerIsDefault = true
        let logs = CapturedLogs()
        let server = Server(config: config, handler: RecordingHandler(), metrics: PrometheusMetricsFactory(), logger: logs.logger())
        try await server.start()
        XCTAssertNil(server.metricsPort)
        XCTAssertTrue(logs.all.contains { $0.0 == .warning && $0.1.contains("serving no metrics") }, "\(logs.all)")
        await server.shutdown()

        config.metricsListenerIsDefault = false
        let explicit = Server(config: config, handler: RecordingHandler(), metrics: PrometheusMetricsFactory(), logger: logs.logger())
        do {
            try await explicit.start()
            XCTFail("a metrics listener the operator asked for must bind or fail the start")
        } catch {}
        try await taken.close()
    }
}
