import CoreMetrics
import Synchronization

/// A swift-metrics backend that keeps every metric in memory and renders Prometheus' text format
/// (version 0.0.4) on demand.
///
/// Counters become `counter`; meters and non-aggregating recorders become `gauge`; aggregating
/// recorders become `histogram` over `histogramBuckets`; timers become `histogram` in seconds over
/// `timerBucketsSeconds`. Asking twice for the same label and dimensions returns the same handler.
public final class PrometheusMetricsFactory: MetricsFactory, Sendable {
    public let histogramBuckets: [Double]
    public let timerBucketsSeconds: [Double]
    private let registry = Mutex(Registry())
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public static let defaultTimerBucketsSeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    public static let defaultHistogramBuckets: [Double] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
    ]

    public init(
        histogramBuckets: [Double] = PrometheusMetricsFactory.defaultHistogramBuckets,
        timerBucketsSeconds: [Double] = PrometheusMetricsFactory.defaultTimerBucketsSeconds
    ) {
        precondition(histogramBuckets == histogramBuckets.sorted() && !histogramBuckets.isEmpty, "buckets must be sorted")
        precondition(timerBucketsSeconds == timerBucketsSeconds.sorted() && !timerBucketsSeconds.isEmpty, "buckets must be sorted")
        self.histogramBuckets = histogramBuckets
        self.timerBucketsSeconds = timerBucketsSeconds
    }

    // MARK: MetricsFactory

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        let key = SeriesKey(label: label, dimensions: dimensions)
        return registry.withLock { registry in
            if let existing = registry.counters[key] { return existing }
            let counter = PrometheusCounter()
            registry.counters[key] = counter
            return counter
        }
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        makeGauge(SeriesKey(label: label, dimensions: dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        let key = SeriesKey(label: label, dimensions: dimensions)
        guard aggregate else { return makeGauge(key) }
        return registry.withLock { registry in
            if let existing = registry.histograms[key] { return existing }
            let histogram = PrometheusHistogram(buckets: histogramBuckets)
            registry.histograms[key] = histogram
            return histogram
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        let key = SeriesKey(label: label, dimensions: dimensions)
        return registry.withLock { registry in
            if let existing = registry.timers[key] { return existing }
            let timer = PrometheusTimer(histogram: PrometheusHistogram(buckets: timerBucketsSeconds))
            registry.timers[key] = timer
            return timer
        }
    }

    public func destroyCounter(_ handler: CounterHandler) {
        registry.withLock { registry in registry.counters = registry.counters.filter { $0.value !== handler } }
    }

    public func destroyMeter(_ handler: MeterHandler) {
        registry.withLock { registry in registry.gauges = registry.gauges.filter { $0.value !== handler } }
    }

    public func destroyRecorder(_ handler: RecorderHandler) {
        registry.withLock { registry in
            registry.histograms = registry.histograms.filter { $0.value !== handler }
            registry.gauges = registry.gauges.filter { $0.value !== handler }
        }
    }

    public func destroyTimer(_ handler: TimerHandler) {
        registry.withLock { registry in registry.timers = registry.timers.filter { $0.value !== handler } }
    }

    private func makeGauge(_ key: SeriesKey) -> PrometheusGauge {
        registry.withLock { registry in
            if let existing = registry.gauges[key] { return existing }
            let gauge = PrometheusGauge()
            registry.gauges[key] = gauge
            return gauge
        }
    }

    // MARK: Rendering

    /// Runs `collect` before every render, to set gauges whose values are read only when scraped
    /// (such as the allocator's statistics).
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// The whole registry in Prometheus' text exposition format, series sorted by name and labels.
    public func render() -> String {
        // Collectors register and set metrics, which takes the registry lock: run them outside it.
        for collect in collectors.withLock({ $0 }) { collect() }
        let snapshot = registry.withLock { $0 }
        var text = ""
        renderFamilies(snapshot.counters, type: "counter", into: &text) { name, labels, counter, text in
            text += "\(name)\(labels.rendered()) \(counter.value)\n"
        }
        renderFamilies(snapshot.gauges, type: "gauge", into: &text) { name, labels, gauge, text in
            text += "\(name)\(labels.rendered()) \(formatSample(gauge.value))\n"
        }
        renderFamilies(snapshot.histograms, type: "histogram", into: &text) { name, labels, histogram, text in
            histogram.render(name: name, labels: labels, into: &text)
        }
        renderFamilies(snapshot.timers, type: "histogram", into: &text) { name, labels, timer, text in
            timer.histogram.render(name: name, labels: labels, into: &text)
        }
        return text
    }

    private func renderFamilies<Handler>(
        _ series: [SeriesKey: Handler], type: String, into text: inout String,
        line: (String, Labels, Handler, inout String) -> Void
    ) {
        let byName = Dictionary(grouping: series, by: { $0.key.name })
        for name in byName.keys.sorted() {
            text += "# TYPE \(name) \(type)\n"
            for (key, handler) in byName[name]!.sorted(by: { $0.key.labels.rendered() < $1.key.labels.rendered() }) {
                line(name, key.labels, handler, &text)
            }
        }
    }
}

private struct Registry {
    var counters: [SeriesKey: PrometheusCounter] = [:]
    var gauges: [SeriesKey: PrometheusGauge] = [:]
    var histograms: [SeriesKey: PrometheusHistogram] = [:]
    var timers: [SeriesKey: PrometheusTimer] = [:]
}

/// A metric name and label set, sanitised to what Prometheus accepts.
struct SeriesKey: Hashable {
    let name: String
    let labels: Labels

    init(label: String, dimensions: [(String, String)]) {
        self.name = sanitizedName(label)
        self.labels = Labels(pairs: dimensions.map { (sanitizedName($0.0), $0.1) }.sorted { $0.0 < $1.0 })
    }
}

struct Labels: Hashable {
    let names: [String]
    let values: [String]

    init(pairs: [(String, String)]) {
        names = pairs.map(\.0)
        values = pairs.map(\.1)
    }

    /// `{a="1",b="2"}`, with `extra` appended (used for `le`); empty when there are no labels.
    func rendered(extra: (String, String)? = nil) -> String {
        var parts = zip(names, values).map { "\($0)=\"\(escapedLabelValue($1))\"" }
        if let extra { parts.append("\(extra.0)=\"\(extra.1)\"") }
        return parts.isEmpty ? "" : "{" + parts.joined(separator: ",") + "}"
    }
}

/// Prometheus names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`.
func sanitizedName(_ raw: String) -> String {
    var out = ""
    for (index, scalar) in raw.unicodeScalars.enumerated() {
        let isLetter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_" || scalar == ":"
        let isDigit = scalar >= "0" && scalar <= "9"
        out.unicodeScalars.append(isLetter || (isDigit && index > 0) ? scalar : "_")
    }
    return out.isEmpty ? "_" : out
}

func escapedLabelValue(_ raw: String) -> String {
    var out = ""
    for character in raw {
        switch character {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        default: out.append(character)
        }
    }
    return out
}

func formatSample(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value == .infinity { return "+Inf" }
    if value == -.infinity { return "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}
