/// Everything the NIO shell needs: where to listen, what to advertise, and the per-connection limits.
public struct NetworkConfig: Sendable, Equatable {
    /// Addresses to bind, one server socket each.
    public var listeners: [Listener]
    /// What Metadata tells clients to connect to, by listener name; same names as `listeners`.
    public var advertisedListeners: [Listener]
    /// `HOST:PORT` of the Prometheus `/metrics` endpoint; nil serves none.
    public var metricsListener: HostPort?
    /// True when `metricsListener` is the default rather than one the operator gave.
    public var metricsListenerIsDefault = false
    /// Connections to `/metrics` open at once; more are closed as soon as they are accepted.
    public var metricsConnectionsMax = 16
    /// A `/metrics` connection with no traffic for this long is closed.
    public var metricsConnectionIdleMs: Int64 = 30_000
    /// `socket.request.max.bytes`: a frame declaring more closes the connection.
    public var requestBytesMax: Int32
    /// `connections.max.idle.ms`: a connection with no traffic and nothing in flight is closed after this.
    public var connectionIdleMs: Int64
    /// Requests handled at once on one connection; reads stop while this many are in flight.
    /// 1 gives Kafka's strictly serial processing per connection.
    public var inFlightRequestsPerConnectionMax: Int
    /// Request bytes held at once on one connection (one request is always taken, however large):
    /// what a stalled disk can make a connection hold in memory.
    public var inFlightRequestBytesPerConnectionMax: Int
    /// Unsent answer bytes one connection may have before its requests stop being read and handled: the
    /// high watermark of its write buffer (the low one is half). What a client that never reads its
    /// answers can make the broker hold, besides the answers of requests already being handled.
    public var unsentResponseBytesPerConnectionMax = 1024 * 1024
    /// `queued.max.request.bytes`: request bytes held at once by all connections together, from a
    /// frame's size until its answer; nil for no limit (Kafka's -1). Connections stop reading while
    /// it is spent. Must be at least `requestBytesMax` (as Kafka requires), which one request may exceed it by.
    public var queuedRequestBytesMax: Int? = NetworkConfig.defaultQueuedRequestBytesMax
    /// `max.connections`: connections beyond this are closed as soon as they are accepted.
    public var connectionsMax: Int
    /// How long shutdown waits for in-flight requests before closing connections regardless.
    public var shutdownGraceMs: Int64

    public static let defaultRequestBytesMax: Int32 = 100 * 1024 * 1024
    public static let defaultConnectionIdleMs: Int64 = 10 * 60 * 1000
    /// Kafka's default is no limit. 256 MiB: two and a half requests of the default 100 MiB maximum, or
    /// about a quarter second of requests at 1 GB/s, which keeps a broker of a few GiB of memory
    /// alive under any number of connections while costing a busy broker no throughput.
    public static let defaultQueuedRequestBytesMax = 256 * 1024 * 1024

    public init(
        listeners: [Listener],
        advertisedListeners: [Listener],
        metricsListener: HostPort? = nil,
        requestBytesMax: Int32 = NetworkConfig.defaultRequestBytesMax,
        connectionIdleMs: Int64 = NetworkConfig.defaultConnectionIdleMs,
        inFlightRequestsPerConnectionMax: Int = 100,
        inFlightRequestBytesPerConnectionMax: Int = 16 * 1024 * 1024,
        connectionsMax: Int = 10_000,
        shutdownGraceMs: Int64 = 10_000
    ) {
        self.listeners = listeners
        self.advertisedListeners = advertisedListeners
        self.metricsListener = metricsListener
        self.requestBytesMax = requestBytesMax
        self.connectionIdleMs = connectionIdleMs
        self.inFlightRequestsPerConnectionMax = inFlightRequestsPerConnectionMax
        self.inFlightRequestBytesPerConnectionMax = inFlightRequestBytesPerConnectionMax
        self.connectionsMax = connectionsMax
        self.shutdownGraceMs = shutdownGraceMs
    }

    /// The advertised address for the listener a connection arrived on.
    public func advertised(forListener name: String) -> Listener? {
        advertisedListeners.first { $0.name == name }
    }

    public func validate() throws(ConfigError) {
        if listeners.isEmpty {
            throw ConfigError("listeners: at least one listener is required")
        }
        var ports: [Int: String] = [:]
        for listener in listeners where listener.port != 0 {
            if let other = ports[listener.port] {
                throw ConfigError("listeners: \(other) and \(listener.name) both use port \(listener.port)")
            }
            ports[listener.port] = listener.name
        }
        for advertised in advertisedListeners {
            if !listeners.contains(where: { $0.name == advertised.name }) {
                throw ConfigError(
                    "advertised listeners: \(advertised.name) is not one of the listeners "
                        + "(\(listeners.map(\.name).joined(separator: ", ")))")
            }
            if advertised.hostPort.isWildcard {
                throw ConfigError("advertised listeners: \(advertised) is a wildcard address; clients cannot connect to it")
            }
        }
        for listener in listeners where !advertisedListeners.contains(where: { $0.name == listener.name }) {
            throw ConfigError("advertised listeners: listener \(listener.name) has no advertised address")
        }
        if requestBytesMax < 1024 {
            throw ConfigError("socket request max bytes: \(requestBytesMax) is below the minimum of 1024")
        }
        if connectionIdleMs <= 0 {
            throw ConfigError("connections max idle ms: \(connectionIdleMs) must be positive")
        }
        if inFlightRequestBytesPerConnectionMax < 1 {
            throw ConfigError("in-flight request bytes per connection: \(inFlightRequestBytesPerConnectionMax) must be positive")
        }
        if !(1...10_000).contains(inFlightRequestsPerConnectionMax) {
            throw ConfigError("max in-flight requests per connection: \(inFlightRequestsPerConnectionMax) must be 1 to 10000")
        }
        if unsentResponseBytesPerConnectionMax < 2 {
            throw ConfigError("unsent response bytes per connection: \(unsentResponseBytesPerConnectionMax) must be at least 2")
        }
        if let queuedRequestBytesMax, queuedRequestBytesMax < Int(requestBytesMax) {
            throw ConfigError(
                "queued max request bytes: \(queuedRequestBytesMax) must be at least socket request max bytes \(requestBytesMax), or -1 for no limit")
        }
        if metricsConnectionsMax < 1 {
            throw ConfigError("metrics connections max: \(metricsConnectionsMax) must be at least 1")
        }
        if metricsConnectionIdleMs <= 0 {
            throw ConfigError("metrics connection idle ms: \(metricsConnectionIdleMs) must be positive")
        }
        if connectionsMax < 1 {
            throw ConfigError("max connections: \(connectionsMax) must be at least 1")
        }
        if shutdownGraceMs < 0 {
            throw ConfigError("shutdown grace ms: \(shutdownGraceMs) must not be negative")
        }
    }

    /// Advertised listeners for `listeners`: an explicit entry wins; otherwise the bound address, with a
    /// wildcard host replaced by `hostName` (the machine's name) or, when that is empty, 127.0.0.1.
    public static func resolveAdvertised(
        listeners: [Listener], explicit: [Listener], hostName: String
    ) -> [Listener] {
        listeners.map { listener in
            if let given = explicit.first(where: { $0.name == listener.name }) {
                return given
            }
            guard listener.hostPort.isWildcard else { return listener }
            let host = hostName.isEmpty ? "127.0.0.1" : hostName
            return Listener(name: listener.name, host: host, port: listener.port)
        } + explicit.filter { given in !listeners.contains { $0.name == given.name } }
    }
}
