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

/// What the broker implements to answer requests. The shell hands over one frame's payload (request
/// header and body, without the 4-byte size) and writes back the returned buffer as it is: a complete
/// response frame, size first, as `RunnelWire.ResponseFrame.encode` produces.
///
/// Calls for one connection may run concurrently, up to the configured in-flight limit; the shell writes
/// responses in request order whatever order the calls finish in. nil means "send nothing" (a produce
/// with acks=0); it does not delay later responses.
public protocol RequestHandling: Sendable {
    func handle(_ frame: ByteBuffer, context: RequestContext) async -> ByteBuffer?
}
