import ArgumentParser
import RunnelBroker

/// `serve`'s log cleaner option; the option wins over RUNNEL_LOG_CLEANER_BACKOFF_MS, which wins over
/// Kafka's default (log.cleaner.backoff.ms, 15 s).
struct CleanerServeOptions: ParsableArguments {
    static let backoffEnvironmentName = "RUNNEL_LOG_CLEANER_BACKOFF_MS"
    static let backoffDefaultMs: Int64 = 15_000

    @Option(help: "Pause between log cleaner passes over compacted topics (RUNNEL_LOG_CLEANER_BACKOFF_MS, default 15000).")
    var logCleanerBackoffMs: String?

    /// The backoff in ms, or an error naming a value that is not a positive integer.
    func resolve(environment: [String: String]) throws(CleanerOptionError) -> CleanerServeSettings {
        let text = logCleanerBackoffMs ?? environment[Self.backoffEnvironmentName].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return CleanerServeSettings(backoffMs: Self.backoffDefaultMs) }
        guard let value = Int64(text), value > 0 else {
            throw CleanerOptionError(message: "--log-cleaner-backoff-ms (\(Self.backoffEnvironmentName)): '\(text)' is not a positive integer")
        }
        return CleanerServeSettings(backoffMs: value)
    }
}

struct CleanerOptionError: Error, Equatable {
    let message: String
}

/// The resolved log cleaner settings.
struct CleanerServeSettings: Equatable {
    var backoffMs: Int64

    func apply(to settings: inout BrokerSettings) {
        settings.logCleanerBackoffMs = backoffMs
    }
}
