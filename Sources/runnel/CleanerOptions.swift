/// The log cleaner's `serve` setting, kept apart from the shared setting table: the option wins over
/// RUNNEL_LOG_CLEANER_BACKOFF_MS, which wins over Kafka's default (log.cleaner.backoff.ms, 15 s).
enum CleanerOptions {
    static let backoffEnvironmentName = "RUNNEL_LOG_CLEANER_BACKOFF_MS"
    static let backoffDefaultMs: Int64 = 15_000

    /// The backoff in ms, or a message for a value that is not a positive integer.
    static func backoffMs(flag: String?, environment: [String: String]) -> Result<Int64, CleanerOptionError> {
        guard let text = flag ?? environment[backoffEnvironmentName] else { return .success(backoffDefaultMs) }
        guard let value = Int64(text), value > 0 else {
            return .failure(CleanerOptionError(message: "log cleaner backoff ms (--log-cleaner-backoff-ms, \(backoffEnvironmentName)): '\(text)' is not a positive integer"))
        }
        return .success(value)
    }
}

struct CleanerOptionError: Error, Equatable {
    let message: String
}
