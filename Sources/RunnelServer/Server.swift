import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The network shell: one server socket per listener, each connection framed and handed to a
/// `RequestHandling`; an optional `/metrics` endpoint; graceful shutdown.
///
///     let server = Server(config: network, handler: broker, metrics: factory, logger: logger)
///     try await server.start()       // binds; returns the bound addresses
///     try await server.run()         // start (if needed) and wait until shutdown() has finished
///     await server.shutdown()        // stop accepting, let in-flight requests finish (bounded), close
public final class Server: Sendable {
    /// A listener as bound: `port` is the real one even when the configuration said 0.
    public struct BoundListener: Sendable, Equatable {
        public let name: String
        public let host: String
        public let port: Int
    }

    private enum Phase {
        case idle
        case running
        case stopping
        case stopped
    }

    private struct State {
        var phase = Phase.idle
        var serverChannels: [Channel] = []
        var metricsChannel: Channel?
        var connections: [UInt64: Channel] = [:]
        var metricsConnections = 0
        var nextConnectionId: UInt64 = 1
        /// `run()` and repeated `shutdown()` calls waiting for the shutdown to finish.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let config: NetworkConfig
    private let handler: any RequestHandling
    private let metricsFactory: PrometheusMetricsFactory?
    private let metrics: ServerMetrics?
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(State())
    /// The broker-wide request budget (`queued.max.request.bytes`); nil when unlimited.
    let requestMemory: RequestMemoryPool?

    /// `metrics`: the factory whose registry `/metrics` renders and where the shell's own metrics go;
    /// nil records nothing and serves no endpoint.
    public init(
        config: NetworkConfig,
        handler: any RequestHandling,
        metrics: PrometheusMetricsFactory?,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.config = config
        self.handler = handler
        self.metricsFactory = metrics
        self.metrics = metrics.map { ServerMetrics(factory: $0) }
        self.logger = logger
        self.group = group
        let requestMemory = config.queuedRequestBytesMax.map { RequestMemoryPool(bytesMax: $0, logger: logger) }
        self.requestMemory = requestMemory
        if let requestMemory, let metrics {
            let used = Gauge(label: "runnel_request_memory_used_bytes", factory: metrics)
            let waiting = Gauge(label: "runnel_request_memory_waiting_connections", factory: metrics)
            Gauge(label: "runnel_request_memory_max_bytes", factory: metrics).record(requestMemory.bytesMax)
            // Read at scrape time, so that requests pay no extra lock for the figure.
            metrics.addCollector {
                used.record(requestMemory.usedBytes)
                waiting.record(requestMemory.waitingConnections)
            }
        }
    }

    /// Binds every listener and the metrics endpoint. On a bind failure, whatever was bound is closed
    /// and the error is thrown.
    @discardableResult
    public func start() async throws -> [BoundListener] {
        try state.withLock { state in
            guard state.phase == .idle else { throw ServerError.alreadyStarted }
            state.phase = .running
        }
        var bound: [BoundListener] = []
        do {
            for listener in config.listeners {
                let channel = try await bootstrap(for: listener).bind(host: bindHost(listener.host), port: listener.port).get()
                try state.withLock { state in
                    guard state.phase == .running else { throw ServerError.shutDownWhileStarting }
                    state.serverChannels.append(channel)
                }
                let port = channel.localAddress?.port ?? listener.port
                bound.append(BoundListener(name: listener.name, host: listener.host, port: port))
                logger.info("listening", metadata: ["listener": "\(listener.name)", "address": "\(listener.host):\(port)"])
            }
            if let metricsListener = config.metricsListener, let metricsFactory {
                do {
                    let channel = try await metricsBootstrap(factory: metricsFactory)
                        .bind(host: bindHost(metricsListener.host), port: metricsListener.port).get()
                    state.withLock { $0.metricsChannel = channel }
                    logger.info("serving metrics", metadata: ["address": "\(metricsListener.host):\(channel.localAddress?.port ?? 0)/metrics"])
                } catch where config.metricsListenerIsDefault {
                    // Only the default may be missing: a second broker on one machine still starts.
                    logger.warning(
                        "serving no metrics: cannot bind the default metrics listener \(metricsListener): \(error); choose one with \(Setting.metricsListener.displayName) or 'none'")
                }
            }
        } catch {
            await shutdown()
            throw error
        }
        return bound
    }

    /// Starts unless already started, then waits until `shutdown()` has finished.
    public func run() async throws {
        let needsStart = state.withLock { $0.phase == .idle }
        if needsStart {
            try await start()
        }
        await waitUntilStopped()
    }

    private func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.phase == .stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Stops accepting, asks every connection to finish its in-flight requests, waits up to
    /// `shutdownGraceMs`, then closes whatever is left. Safe to call more than once.
    public func shutdown() async {
        let (serverChannels, metricsChannel, alreadyStopping) = state.withLock { state in
            let already = state.phase == .stopping || state.phase == .stopped
            if !already { state.phase = .stopping }
            return (state.serverChannels, state.metricsChannel, already)
        }
        if alreadyStopping {
            await waitUntilStopped()
            return
        }
        logger.info("shutting down: no new connections; finishing in-flight requests")
        for channel in serverChannels {
            try? await channel.close()
        }
        let connections = state.withLock { Array($0.connections.values) }
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let drained = await waitForClose(connections, timeoutMs: config.shutdownGraceMs)
        if !drained {
            let left = state.withLock { Array($0.connections.values) }
            logger.warning("closing \(left.count) connection(s) still busy after \(config.shutdownGraceMs) ms")
            for channel in left {
                try? await channel.close()
            }
        }
        try? await metricsChannel?.close()
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        logger.info("shut down")
        for waiter in waiters { waiter.resume() }
    }

    /// Connections open now, for tests and diagnostics.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// The port `/metrics` is served on, once started (the real one when configured as 0).
    public var metricsPort: Int? { state.withLock { $0.metricsChannel?.localAddress?.port } }

    // MARK: Bootstraps

    private func bootstrap(for listener: Listener) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)  // SOL_TCP; at SOL_SOCKET option 1 is SO_DEBUG
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: config.unsentResponseBytesPerConnectionMax / 2, high: config.unsentResponseBytesPerConnectionMax))
            .childChannelInitializer { [self] channel in
                self.initializeConnection(channel, listenerName: listener.name)
            }
    }

    private func initializeConnection(_ channel: Channel, listenerName: String) -> EventLoopFuture<Void> {
        let admitted: UInt64? = state.withLock { state in
            guard state.phase == .running, state.connections.count < config.connectionsMax else { return nil }
            let id = state.nextConnectionId
            state.nextConnectionId += 1
            state.connections[id] = channel
            return id
        }
        guard let connectionId = admitted else {
            metrics?.connectionsRejected.increment()
            logger.warning("refusing connection from \(channel.remoteAddress.map(formatAddress) ?? "unknown"): \(config.connectionsMax) connections open or shutting down")
            return channel.close()
        }
        metrics?.connectionsAccepted.increment()
        metrics?.connectionsActive.increment()
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.connections.removeValue(forKey: connectionId) }
            metrics?.connectionsActive.decrement()
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers(
                Self.connectionHandlers(
                    config: config, handler: handler, listenerName: listenerName, connectionId: connectionId,
                    requestMemory: requestMemory, metrics: metrics, logger: logger))
        }
    }

    /// The per-connection pipeline, shared with the tests: the request budget's gate (when there is a
    /// budget), framing, then request handling.
    static func connectionHandlers(
        config: NetworkConfig, handler: any RequestHandling, listenerName: String, connectionId: UInt64,
        requestMemory: RequestMemoryPool? = nil, metrics: ServerMetrics?, logger: Logger
    ) -> [any ChannelHandler] {
        let account = requestMemory.map { RequestBytesAccount(pool: $0, connectionId: connectionId) }
        let gate: [any ChannelHandler] = account.map {
            [RequestMemoryGate(account: $0, frameBytesMax: config.requestBytesMax, metrics: metrics)]
        } ?? []
        return gate + [
            ByteToMessageHandler(FrameDecoder(frameBytesMax: config.requestBytesMax)),
            ConnectionHandler(
                handler: handler, listenerName: listenerName, connectionId: connectionId,
                inFlightMax: config.inFlightRequestsPerConnectionMax,
                inFlightBytesMax: config.inFlightRequestBytesPerConnectionMax, idleMs: config.connectionIdleMs,
                account: account, metrics: metrics, logger: logger),
        ]
    }

    /// `/metrics`: at most `metricsConnectionsMax` connections at once, each closed after one answer
    /// or `metricsConnectionIdleMs` without traffic, so scrapers cannot pile up connections.
    private func metricsBootstrap(factory: PrometheusMetricsFactory) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                let admitted = state.withLock { state in
                    guard state.metricsConnections < config.metricsConnectionsMax else { return false }
                    state.metricsConnections += 1
                    return true
                }
                guard admitted else {
                    metrics?.metricsConnectionsRejected.increment()
                    logger.debug("refusing a metrics connection: \(config.metricsConnectionsMax) open")
                    return channel.close()
                }
                channel.closeFuture.whenComplete { [self] _ in
                    state.withLock { $0.metricsConnections -= 1 }
                }
                let idle = TimeAmount.milliseconds(config.metricsConnectionIdleMs)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: { factory.render() }))
                }
            }
    }

    private func bindHost(_ host: String) -> String {
        host.isEmpty ? "0.0.0.0" : host
    }

    /// True when every channel closed within the timeout.
    private func waitForClose(_ channels: [Channel], timeoutMs: Int64) async -> Bool {
        guard !channels.isEmpty else { return true }
        let loop = group.any()
        let allClosed = EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: loop)
        let outcome = loop.makePromise(of: Bool.self)
        let timer = loop.scheduleTask(in: .milliseconds(timeoutMs)) { outcome.succeed(false) }
        allClosed.whenComplete { _ in
            timer.cancel()
            outcome.succeed(true)
        }
        return (try? await outcome.futureResult.get()) ?? false
    }
}

public enum ServerError: Error, Equatable, CustomStringConvertible {
    case alreadyStarted
    case shutDownWhileStarting

    public var description: String {
        switch self {
        case .alreadyStarted: return "the server was already started"
        case .shutDownWhileStarting: return "the server was shut down while it was starting"
        }
    }
}
