import Logging
import NIOCore
import RunnelServer

/// The seam between the network shell and the broker: `serve` asks here for the object that
/// answers requests. The broker (RunnelBroker) plugs in by replacing this function's body with its
/// own construction (open the log store, load metadata, return the request router).
func makeRequestHandler(
    config: BrokerConfig, metrics: PrometheusMetricsFactory, logger: Logger
) async throws -> any RequestHandling {
    NoBrokerHandler(logger: logger)
}

/// Stands in until the broker is wired in: it answers nothing and closes each connection with a log
/// line saying why, so a client fails fast instead of waiting for answers that will never come.
struct NoBrokerHandler: RequestHandling {
    let logger: Logger

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        .closeConnection(reason: "no broker is wired into this build of runnel serve")
    }
}
