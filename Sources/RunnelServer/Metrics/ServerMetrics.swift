import CoreMetrics
import RunnelWire
import Synchronization

/// The metrics the network shell records itself: requests and latency per API key, bytes, connections.
/// Per-key metric objects are made on first use and kept, so the hot path takes one short lock.
public final class ServerMetrics: Sendable {
    private let factory: MetricsFactory
    private let perApiKey = Mutex<[Int16: (requests: Counter, latency: Timer)]>([:])
    let bytesIn: Counter
    let bytesOut: Counter
    let connectionsActive: Meter
    let connectionsAccepted: Counter
    let connectionsRejected: Counter
    let framingErrors: Counter
    /// Times a connection's unsent answers passed their bound, pausing its requests.
    let unsentResponsesOverBound: Counter
    /// Times a connection stopped reading because the broker-wide request budget was spent.
    let requestMemoryRefusals: Counter
    let metricsConnectionsRejected: Counter

    public init(factory: MetricsFactory) {
        self.factory = factory
        bytesIn = Counter(label: "runnel_network_bytes_in_total", factory: factory)
        bytesOut = Counter(label: "runnel_network_bytes_out_total", factory: factory)
        connectionsActive = Meter(label: "runnel_connections_active", factory: factory)
        connectionsAccepted = Counter(label: "runnel_connections_accepted_total", factory: factory)
        connectionsRejected = Counter(label: "runnel_connections_rejected_total", factory: factory)
        framingErrors = Counter(label: "runnel_framing_errors_total", factory: factory)
        unsentResponsesOverBound = Counter(label: "runnel_connection_unsent_responses_over_bound_total", factory: factory)
        requestMemoryRefusals = Counter(label: "runnel_request_memory_refusals_total", factory: factory)
        metricsConnectionsRejected = Counter(label: "runnel_metrics_connections_rejected_total", factory: factory)
    }

    /// Counts one finished request with its time from arrival to answer.
    func recordRequest(apiKey: Int16, durationNanoseconds: Int64) {
        let metrics = perApiKey.withLock { table in
            if let existing = table[apiKey] { return existing }
            let name = ApiKey(rawValue: apiKey).map { "\($0)" } ?? "unknown"
            let dimensions = [("api", name)]
            let made = (
                requests: Counter(label: "runnel_requests_total", dimensions: dimensions, factory: factory),
                latency: Timer(label: "runnel_request_duration_seconds", dimensions: dimensions, factory: factory)
            )
            table[apiKey] = made
            return made
        }
        metrics.requests.increment()
        metrics.latency.recordNanoseconds(durationNanoseconds)
    }
}
