import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// One line per event on stderr: time, level, label, message, metadata.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(.iso8601)
        let line = "\(time) \(event.level) \(label): \(event.message)\(fields.isEmpty ? "" : " " + fields)\n"
        writeAll(Array(line.utf8), to: standardError)
    }
}

enum Logs {
    /// Installs the stderr handler at `level` (trace, debug, info, notice, warning, error, critical).
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, logLevel: level) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Prints `runnel: error: …` and exits with `code`.
func fail(_ message: String, code: Int32) -> ExitCode {
    writeAll(Array("runnel: error: \(message)\n".utf8), to: standardError)
    return ExitCode(code)
}

func printError(_ message: String) {
    writeAll(Array("\(message)\n".utf8), to: standardError)
}
