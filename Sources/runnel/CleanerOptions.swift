import ArgumentParser
import RunnelBroker
import RunnelRecords

/// `serve`'s log cleaner options, which also bound record inflation everywhere. An option wins over its
/// RUNNEL_* variable, which wins over the default (Kafka's log.cleaner.backoff.ms, 15 s; 64 MiB).
struct CleanerServeOptions: ParsableArguments {
    @Option(help: "Pause between log cleaner passes over compacted topics (RUNNEL_LOG_CLEANER_BACKOFF_MS, default 15000).")
    var logCleanerBackoffMs: String?

    @Option(help: """
        Most bytes compressed records are inflated to, on produce (per partition), ListOffsets and in the cleaner; \
        no topic config raises it (RUNNEL_UNCOMPRESSED_BATCH_BYTES_MAX, default 67108864).
        """)
    var uncompressedBatchBytesMax: String?

    /// The settings, or an error naming a value that is not a positive integer.
    func resolve(environment: [String: String]) throws(ServeOptionError) -> CleanerServeSettings {
        let defaults = CleanerServeSettings()
        return CleanerServeSettings(
            backoffMs: try GroupServeOptions.integer(
                logCleanerBackoffMs, "log-cleaner-backoff-ms", environment, default: defaults.backoffMs, range: 1...Int64.max),
            uncompressedBatchBytesMax: try GroupServeOptions.integer(
                uncompressedBatchBytesMax, "uncompressed-batch-bytes-max", environment, default: defaults.uncompressedBatchBytesMax,
                range: 1...Int.max))
    }
}

/// The resolved log cleaner settings, with their defaults.
struct CleanerServeSettings: Equatable {
    var backoffMs: Int64 = 15_000
    var uncompressedBatchBytesMax = RecordBatchValidator.uncompressedBytesMaxDefault

    func apply(to settings: inout BrokerSettings) {
        settings.logCleanerBackoffMs = backoffMs
        settings.uncompressedBatchBytesMax = uncompressedBatchBytesMax
    }
}
