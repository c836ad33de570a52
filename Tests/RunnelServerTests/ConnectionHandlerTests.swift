import Logging
import NIOCore
import NIOEmbedded
import XCTest

@testable import RunnelServer

/// Counts `read` events that pass the connection handler towards the socket.
final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = Any
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

final class ConnectionHandlerTests: XCTestCase {
    private func makeChannel(
        handler: any RequestHandling, inFlightMax: Int = 100, inFlightBytesMax: Int = 1 << 24, idleMs: Int64 = 60_000,
        logs: CapturedLogs = CapturedLogs(), metrics: ServerMetrics? = nil
    ) async throws -> (NIOAsyncTestingChannel, ReadCounter) {
        var config = NetworkConfig(listeners: [], advertisedListeners: [])
        config.inFlightRequestsPerConnectionMax = inFlightMax
        config.inFlightRequestBytesPerConnectionMax = inFlightBytesMax
        config.connectionIdleMs = idleMs
        let counter = ReadCounter()
        let channel = NIOAsyncTestingChannel()
        let logger = logs.logger()
        let configured = config
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandlers(
                Server.connectionHandlers(
                    config: configured, handler: handler, listenerName: "INTERNAL", connectionId: 7, metrics: metrics,
                    logger: logger))
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 4567))
        return (channel, counter)
    }

    /// Asks for a read and checks that the full connection holds it back; returns the reads passed on so far.
    private func assertReadHeldBack(_ channel: NIOAsyncTestingChannel, _ counter: ReadCounter, _ message: String) async throws -> Int {
        let readsBefore = try await channel.eventLoop.submit { counter.reads }.get()
        channel.read()
        let readsWhileFull = try await channel.eventLoop.submit { counter.reads }.get()
        XCTAssertEqual(readsWhileFull, readsBefore, message)
        return readsBefore
    }

    /// Reads one length-prefixed response and returns its 4-byte request number.
    private func nextResponse(_ channel: NIOAsyncTestingChannel) async throws -> Int32 {
        var size = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        XCTAssertEqual(size.readInteger(as: Int32.self), 4)
        var payload = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        return payload.readInteger(as: Int32.self) ?? -1
    }

    func testResponsesLeaveInRequestOrderWhenHandlersFinishOutOfOrder() async throws {
        let handler = GatedHandler()
        let (channel, _) = try await makeChannel(handler: handler)
        for number in Int32(1)...3 {
            try await channel.writeInbound(frame(number: number))
        }
        try await handler.waitForReceived(3)
        handler.release(3)
        handler.release(2)
        try await Task.sleep(for: .milliseconds(20))
        let early = try await channel.readOutbound(as: ByteBuffer.self)
        XCTAssertNil(early, "nothing may be written before request 1 is answered")
        handler.release(1)
        var order: [Int32] = []
        for _ in 0..<3 { order.append(try await nextResponse(channel)) }
        XCTAssertEqual(order, [1, 2, 3])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testImmediateAnswersKeepRequestOrderAndWaitForEarlierTaskAnswers() async throws {
        let handler = HalfImmediateHandler()
        let (channel, _) = try await makeChannel(handler: handler)
        var bytes = frame(number: 1)
        for number in Int32(2)...6 {
            var next = frame(number: number)
            bytes.writeBuffer(&next)
        }
        try await channel.writeInbound(bytes)
        var order: [Int32] = []
        for _ in 0..<6 { order.append(try await nextResponse(channel)) }
        XCTAssertEqual(order, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(handler.immediate, [2, 4, 6])
        XCTAssertEqual(handler.viaTask, [1, 3, 5], "a request is handled only after the one before it")
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testHandleIsCalledForOneRequestAtATimeInRequestOrder() async throws {
        let handler = SerialProbeHandler()
        let (channel, _) = try await makeChannel(handler: handler)
        var bytes = ByteBuffer()
        for number in Int32(1)...5 {
            var one = frame(number: number)
            bytes.writeBuffer(&one)
        }
        try await channel.writeInbound(bytes)
        var answers: [Int32] = []
        for _ in 1...5 { answers.append(try await nextResponse(channel)) }
        XCTAssertEqual(answers, [1, 2, 3, 4, 5])
        XCTAssertEqual(handler.order, [1, 2, 3, 4, 5])
        XCTAssertEqual(handler.mostRunningAtOnce, 1, "a producer's pipelined batches must be handled in the order sent")
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testRequestWithoutResponseDoesNotBreakTheOrderOfLaterOnes() async throws {
        let handler = GatedHandler(silent: [2])
        let (channel, _) = try await makeChannel(handler: handler)
        for number in Int32(1)...3 {
            try await channel.writeInbound(frame(number: number))
        }
        try await handler.waitForReceived(3)
        handler.release(3)
        handler.release(1)
        let response1 = try await nextResponse(channel)
        XCTAssertEqual(response1, 1)
        handler.release(2)
        let response2 = try await nextResponse(channel)
        XCTAssertEqual(response2, 3)
        try await Task.sleep(for: .milliseconds(20))
        let extra = try await channel.readOutbound(as: ByteBuffer.self)
        XCTAssertNil(extra, "the silent request must write nothing")
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testCloseOutcomeWritesEarlierAnswersThenClosesDroppingLaterOnes() async throws {
        let handler = GatedHandler(closing: [2])
        let (channel, _) = try await makeChannel(handler: handler)
        for number in Int32(1)...3 {
            try await channel.writeInbound(frame(number: number))
        }
        try await handler.waitForReceived(3)
        handler.release(3)
        handler.release(2)
        handler.release(1)
        let first = try await nextResponse(channel)
        XCTAssertEqual(first, 1)
        try await channel.closeFuture.get()
        var extra: ByteBuffer? = nil
        while let write = try await channel.readOutbound(as: ByteBuffer.self) {
            if write.readableBytes > 0 { extra = write }
        }
        XCTAssertNil(extra, "the answer to request 3 must not be written after the close")
    }

    func testReadsStopAtTheInFlightLimitAndResumeWhenAnswered() async throws {
        let handler = GatedHandler()
        let (channel, counter) = try await makeChannel(handler: handler, inFlightMax: 2)
        var bytes = frame(number: 1)
        var more = [frame(number: 2), frame(number: 3)]
        for index in more.indices { bytes.writeBuffer(&more[index]) }
        try await channel.writeInbound(bytes)
        try await handler.waitForReceived(2)
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertEqual(handler.received, [1, 2], "the third request waits for a free slot")

        let readsBefore = try await assertReadHeldBack(channel, counter, "no read is passed on while the connection is full")

        handler.release(1)
        let response3 = try await nextResponse(channel)
        XCTAssertEqual(response3, 1)
        try await handler.waitForReceived(3)
        XCTAssertEqual(handler.received, [1, 2, 3])
        handler.release(2)
        let response4 = try await nextResponse(channel)
        XCTAssertEqual(response4, 2)
        let readsAfter = try await channel.eventLoop.submit { counter.reads }.get()
        XCTAssertEqual(readsAfter, readsBefore + 1, "the held-back read is issued once a slot frees")
        handler.release(3)
        let response5 = try await nextResponse(channel)
        XCTAssertEqual(response5, 3)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testReadsStopAtTheInFlightByteLimitAndResumeWhenAnswered() async throws {
        let handler = GatedHandler()
        // Each request is 4 bytes: a second one would hold 8 of the 6 allowed.
        let (channel, counter) = try await makeChannel(handler: handler, inFlightBytesMax: 6)
        var bytes = frame(number: 1)
        var second = frame(number: 2)
        bytes.writeBuffer(&second)
        try await channel.writeInbound(bytes)
        try await handler.waitForReceived(1)
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertEqual(handler.received, [1], "the second request waits until the first one's bytes are released")

        _ = try await assertReadHeldBack(channel, counter, "no read is passed on while the connection holds its byte limit")

        handler.release(1)
        let first = try await nextResponse(channel)
        XCTAssertEqual(first, 1)
        try await handler.waitForReceived(2)
        handler.release(2)
        let response = try await nextResponse(channel)
        XCTAssertEqual(response, 2)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testEveryRequestKnowsItsListenerPeerAndConnection() async throws {
        let handler = RecordingHandler()
        let (channel, _) = try await makeChannel(handler: handler)
        try await channel.writeInbound(frame(number: 9))
        let response6 = try await nextResponse(channel)
        XCTAssertEqual(response6, 9)
        XCTAssertEqual(handler.contexts, [RequestContext(listenerName: "INTERNAL", peerAddress: "10.1.2.3:4567", connectionId: 7)])
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }

    func testIdleConnectionIsClosedButNotWhileARequestIsInFlight() async throws {
        let handler = GatedHandler()
        let (channel, _) = try await makeChannel(handler: handler, idleMs: 1000)
        try await channel.writeInbound(frame(number: 1))
        try await handler.waitForReceived(1)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(1500))
        XCTAssertTrue(channel.isActive, "a long-poll in flight is not idleness")
        handler.release(1)
        let response7 = try await nextResponse(channel)
        XCTAssertEqual(response7, 1)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(1500))
        try await channel.closeFuture.get()
        XCTAssertFalse(channel.isActive)
    }

    func testQuiesceFinishesInFlightRequestsThenCloses() async throws {
        let handler = GatedHandler()
        let (channel, _) = try await makeChannel(handler: handler)
        try await channel.writeInbound(frame(number: 1))
        try await handler.waitForReceived(1)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        try await channel.writeInbound(frame(number: 2))
        try await Task.sleep(for: .milliseconds(20))
        XCTAssertTrue(channel.isActive)
        XCTAssertEqual(handler.received, [1], "no new request is taken while draining")
        handler.release(1)
        let response8 = try await nextResponse(channel)
        XCTAssertEqual(response8, 1)
        try await channel.closeFuture.get()
    }

    func testNegativeFrameSizeClosesWithOneWarningNamingThePeer() async throws {
        let logs = CapturedLogs()
        let handler = RecordingHandler()
        let (channel, _) = try await makeChannel(handler: handler, logs: logs)
        var bytes = ByteBuffer()
        bytes.writeInteger(Int32(-5))
        bytes.writeInteger(Int32(0))
        try await channel.writeInbound(bytes)
        try await channel.closeFuture.get()
        let warnings = logs.all.filter { $0.0 == .warning }.map(\.1)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("10.1.2.3:4567") ?? false, "\(warnings)")
        XCTAssertTrue(handler.frames.isEmpty)
    }

    func testShellCountsRequestsAndBytesPerApiKey() async throws {
        let factory = PrometheusMetricsFactory()
        let handler = RecordingHandler()
        let (channel, _) = try await makeChannel(handler: handler, metrics: ServerMetrics(factory: factory))
        var request = ByteBuffer()
        request.writeInteger(Int32(4))
        request.writeInteger(Int16(18))  // ApiVersions
        request.writeInteger(Int16(3))
        try await channel.writeInbound(request)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        let text = factory.render()
        XCTAssertTrue(text.contains("runnel_requests_total{api=\"apiVersions\"} 1\n"), text)
        XCTAssertTrue(text.contains("runnel_request_duration_seconds_count{api=\"apiVersions\"} 1\n"), text)
        XCTAssertTrue(text.contains("runnel_network_bytes_in_total 8\n"), text)
        XCTAssertTrue(text.contains("runnel_network_bytes_out_total 8\n"), text)
        _ = try await channel.finish(acceptAlreadyClosed: true)
    }
}
