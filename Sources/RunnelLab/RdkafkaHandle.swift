import CRdkafka

/// Builds a librdkafka client from `name=value` properties, reporting the property librdkafka refuses.
enum RdkafkaHandle {
    static func make(_ type: rd_kafka_type_t, properties: [(String, String)], events: Int32) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw LabError("rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            if rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw LabError("librdkafka refuses \(name)=\(value): \(text(errorText))")
            }
        }
        if events != 0 { rd_kafka_conf_set_events(conf, events) }
        // On success librdkafka owns the configuration; on failure it is still ours.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw LabError("rd_kafka_new failed: \(text(errorText))")
        }
        return handle
    }

    /// The NUL-terminated text librdkafka wrote into `buffer`.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errorName(_ code: rd_kafka_resp_err_t) -> String {
        "\(String(cString: rd_kafka_err2name(code))): \(String(cString: rd_kafka_err2str(code)))"
    }

    static var version: String { String(cString: rd_kafka_version_str()) }
}

/// The latest lines librdkafka logged, kept for failure messages (bounded: old lines fall off).
public struct RecentLog: Sendable {
    public static let linesMax = 200
    public private(set) var lines: [String] = []

    public init() {}

    public mutating func append(_ line: String) {
        if lines.count == Self.linesMax { lines.removeFirst() }
        lines.append(line)
    }
}

/// Drains a librdkafka log queue (set with `log.queue=true`) into `log`.
func drainLogQueue(_ queue: OpaquePointer, into log: inout RecentLog) {
    var drainedMax = 1_000
    while drainedMax > 0, let event = rd_kafka_queue_poll(queue, 0) {
        drainedMax -= 1
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_type(event) == crdkafka_event_log else { continue }
        var facility: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        var level: Int32 = 0
        if rd_kafka_event_log(event, &facility, &text, &level) == 0 {
            log.append("\(level) \(facility.map { String(cString: $0) } ?? "-") \(text.map { String(cString: $0) } ?? "")")
        }
    }
}

/// The librdkafka this process is linked with, for the report.
public enum Librdkafka {
    public static var version: String { RdkafkaHandle.version }
}
