import NIOCore

/// Where a request came from. Handlers use the listener name to answer Metadata with the addresses
/// advertised for the listener the client actually connected to.
public struct RequestContext: Sendable, Equatable {
    public let listenerName: String
    /// `host:port` of the peer, or "unknown" when the socket no longer knows.
    public let peerAddress: String
    /// Unique per accepted connection for the life of the process.
    public let connectionId: UInt64

    public init(listenerName: String, peerAddress: String, connectionId: UInt64) {
        self.listenerName = listenerName
        self.peerAddress = peerAddress
        self.connectionId = connectionId
    }
}

/// What the shell does with a request once its handler has returned.
public enum RequestOutcome: Sendable, Equatable {
    /// Write this response (header and body, without the size prefix; the shell prepends the size).
    case respond(ByteBuffer)
    /// Send nothing (a produce with acks=0); later responses are not held back.
    case noResponse
    /// Write the responses owed to earlier requests, then close: what Kafka does for an unknown API,
    /// an unsupported version (other than ApiVersions) or an unreadable header. `reason` is logged.
    case closeConnection(reason: String)
    /// The order-sensitive part is done (say, the batch is appended); the answer comes when this task
    /// finishes (say, after the fsync or a long-poll wait). The shell moves on to the next request
    /// meanwhile and still writes the answers in request order.
    case later(Task<RequestOutcome, Never>)
}

/// What the broker implements to answer requests. The shell hands over one frame's payload (request
/// header and body, without the 4-byte size).
///
/// Per connection, `handle` is called for one request at a time, in request order, as Kafka processes
/// a connection's requests: a producer's pipelined batches are appended in the order sent. To let
/// slow parts overlap, a handler returns `.later(task)`; up to the connection's in-flight limit of
/// such answers may be pending at once.
public protocol RequestHandling: Sendable {
    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome
    /// Answers a request on the connection's event loop, when it can without blocking for long (the
    /// broker does so for produce: an append to the page cache); nil passes it to `handle`. Spares the
    /// hot path the hops to a task and back. Same ordering rules as `handle`.
    func handleImmediately(_ frame: ByteBuffer, context: RequestContext) -> RequestOutcome?
}

extension RequestHandling {
    public func handleImmediately(_ frame: ByteBuffer, context: RequestContext) -> RequestOutcome? { nil }
}
