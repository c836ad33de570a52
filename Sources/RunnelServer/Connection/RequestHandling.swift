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

/// What the shell does with a request once its handler is done.
public enum RequestOutcome: Sendable, Equatable {
    /// Write this response (header and body, without the size prefix; the shell prepends the size).
    case respond(ByteBuffer)
    /// Send nothing (a produce with acks=0); later responses are not held back.
    case noResponse
    /// Write the responses owed to earlier requests, then close: what Kafka does for an unknown API,
    /// an unsupported version (other than ApiVersions) or an unreadable header. `reason` is logged.
    case closeConnection(reason: String)
}

/// What the broker implements to answer requests. The shell hands over one frame's payload (request
/// header and body, without the 4-byte size).
///
/// Calls for one connection may run concurrently, up to the configured in-flight limit; the shell
/// carries out the outcomes in request order whatever order the calls finish in.
public protocol RequestHandling: Sendable {
    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome
}
