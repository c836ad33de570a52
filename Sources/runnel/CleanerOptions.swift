import ArgumentParser
import RunnelBroker

/// `serve`'s log cleaner option; the option wins over RUNNEL_LOG_CLEANER_BACKOFF_MS, which wins over
/// Kafka's default (log.cleaner.backoff.ms, 15 s).
struct CleanerServeOptions: ParsableArguments {
    @Option(help: "Pause between log cleaner passes over compacted topics (RUNNEL_LOG_CLEANER_BACKOFF_MS, default 15000).")
    var logCleanerBackoffMs: String?

    /// The backoff in ms, or an error naming a value that is not a positive integer.
    func resolve(environment: [String: String]) throws(ServeOptionError) -> CleanerServeSettings {
        CleanerServeSettings(backoffMs: try GroupServeOptions.integer(
            logCleanerBackoffMs, "log-cleaner-backoff-ms", environment, default: CleanerServeSettings().backoffMs, range: 1...Int64.max))
    }
}

/// The resolved log cleaner settings, with Kafka's default.
struct CleanerServeSettings: Equatable {
    var backoffMs: Int64 = 15_000

    func apply(to settings: inout BrokerSettings) {
        settings.logCleanerBackoffMs = backoffMs
    }
}
