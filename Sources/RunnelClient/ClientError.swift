import RunnelWire

/// Why a client call failed. Kafka errors in a response are values in that response, not these.
public enum ClientError: Error, Equatable, CustomStringConvertible, Sendable {
    case connectFailed(address: String, reason: String)
    case timedOut(api: String, timeoutMs: Int64)
    case connectionClosed
    case tooManyPendingRequests(limit: Int)
    case unsupportedApi(ApiKey)
    case encoding(WireError)
    case decoding(api: String, WireError)
    case badResponseFrame(String)
    case noLeader(topic: String, partition: Int32)
    /// Metadata answered with an error for the topic a request must be routed by.
    case metadataError(topic: String, ErrorCode)
    case unknownBroker(nodeId: Int32)
    case invalidAddress(String)
    /// FindCoordinator answered with an error for the group.
    case coordinatorError(group: String, ErrorCode)

    public var description: String {
        switch self {
        case .connectFailed(let address, let reason): return "cannot connect to \(address): \(reason)"
        case .timedOut(let api, let timeoutMs): return "\(api) got no answer within \(timeoutMs) ms"
        case .connectionClosed: return "the connection closed before the answer arrived"
        case .tooManyPendingRequests(let limit): return "more than \(limit) requests waiting on one connection"
        case .unsupportedApi(let key): return "the broker does not support \(key) at any version this client speaks"
        case .encoding(let error): return "cannot encode the request: \(error)"
        case .decoding(let api, let error): return "cannot decode the \(api) response: \(error)"
        case .badResponseFrame(let reason): return "bad response frame: \(reason)"
        case .noLeader(let topic, let partition): return "\(topic)-\(partition) has no leader"
        case .metadataError(let topic, let code): return "metadata for \(topic): \(code)"
        case .unknownBroker(let nodeId): return "metadata names no broker \(nodeId)"
        case .invalidAddress(let text): return "'\(text)' is not HOST:PORT"
        case .coordinatorError(let group, let code): return "no coordinator for group \(group): \(code)"
        }
    }
}
