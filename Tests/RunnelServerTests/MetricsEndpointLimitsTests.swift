import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import RunnelServer

/// The `/metrics` endpoint cannot be used to hold connections open without bound (item 13 of issue 12).
final class MetricsEndpointLimitsTests: XCTestCase {
    private func makeServer(
        configure: (inout NetworkConfig) -> Void = { _ in }, logs: CapturedLogs = CapturedLogs()
    ) async throws -> (Server, Int, PrometheusMetricsFactory) {
        let listeners = [Listener(name: "CLIENT", host: "127.0.0.1", port: 0)]
        var config = NetworkConfig(
            listeners: listeners, advertisedListeners: listeners, metricsListener: HostPort(host: "127.0.0.1", port: 0))
        configure(&config)
        let factory = PrometheusMetricsFactory()
        let server = Server(config: config, handler: RecordingHandler(), metrics: factory, logger: logs.logger())
        try await server.start()
        return (server, try XCTUnwrap(server.metricsPort), factory)
    }

    /// A connection that says nothing.
    private func connectSilently(port: Int) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    private func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// True when the server closes `channel` within `seconds` (without sending anything).
    private func closedByServer(_ channel: Channel, within seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if !channel.isActive { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !channel.isActive
    }

    private func scrape(port: Int) async throws -> String {
        let http = try await connect(port: port)
        return try await http.executeThenClose { inboundStream, outbound in
            try await outbound.write(ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n"))
            var collected = ByteBuffer()
            for try await var chunk in inboundStream { collected.writeBuffer(&chunk) }
            return String(buffer: collected)
        }
    }

    func testMetricsConnectionsBeyondTheCapAreClosedAndCounted() async throws {
        let (server, port, _) = try await makeServer()
        let cap = NetworkConfig(listeners: [], advertisedListeners: []).metricsConnectionsMax
        var idle: [Channel] = []
        for _ in 0..<cap {
            idle.append(try await connectSilently(port: port))
        }
        try await Task.sleep(for: .milliseconds(100))
        let extra = try await connectSilently(port: port)
        let refused = await closedByServer(extra, within: 2)
        XCTAssertTrue(refused, "connection \(cap + 1) to /metrics is closed at once")
        for channel in idle { try? await channel.close() }
        try await Task.sleep(for: .milliseconds(100))
        let text = try await scrape(port: port)
        XCTAssertTrue(text.contains("runnel_metrics_connections_rejected_total 1\n"), text)
        await server.shutdown()
    }

    func testIdleMetricsConnectionIsClosed() async throws {
        let (server, port, _) = try await makeServer(configure: { $0.metricsConnectionIdleMs = 300 })
        let silent = try await connectSilently(port: port)
        let closed = await closedByServer(silent, within: 3)
        XCTAssertTrue(closed, "a scraper that connects and says nothing is closed after the idle timeout")
        let text = try await scrape(port: port)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK"), "a real scrape still works: \(text)")
        await server.shutdown()
    }
}

final class MetricsListenerDefaultTests: XCTestCase {
    func testMetricsAreServedOnPort9644OfEveryInterfaceByDefaultAsTheReadmeSays() throws {
        let config = try BrokerConfig.resolve(SettingValues(flags: [:], environment: [:]), hostName: "box")
        XCTAssertEqual(config.network.metricsListener, HostPort(host: "0.0.0.0", port: 9644))
        XCTAssertTrue(config.network.metricsListenerIsDefault)
    }

    func testNoneServesNoMetrics() throws {
        let flag = try BrokerConfig.resolve(SettingValues(flags: [.metricsListener: "none"], environment: [:]), hostName: "box")
        XCTAssertNil(flag.network.metricsListener)
        let variable = try BrokerConfig.resolve(
            SettingValues(flags: [:], environment: ["RUNNEL_METRICS_LISTENER": "NONE"]), hostName: "box")
        XCTAssertNil(variable.network.metricsListener)
        let given = try BrokerConfig.resolve(SettingValues(flags: [.metricsListener: "127.0.0.1:9100"], environment: [:]), hostName: "box")
        XCTAssertEqual(given.network.metricsListener, HostPort(host: "127.0.0.1", port: 9100))
        XCTAssertFalse(given.network.metricsListenerIsDefault)
    }
}
