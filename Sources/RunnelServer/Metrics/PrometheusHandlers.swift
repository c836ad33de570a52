import CoreMetrics
import Synchronization

final class PrometheusCounter: CounterHandler, Sendable {
    private let atomic = Atomic<Int64>(0)

    var value: Int64 { atomic.load(ordering: .relaxed) }

    func increment(by amount: Int64) {
        atomic.wrappingAdd(amount, ordering: .relaxed)
    }

    func reset() {
        atomic.store(0, ordering: .relaxed)
    }
}

final class PrometheusGauge: MeterHandler, RecorderHandler, Sendable {
    private let current = Mutex<Double>(0)

    var value: Double { current.withLock { $0 } }

    func set(_ value: Int64) { set(Double(value)) }
    func set(_ value: Double) { current.withLock { $0 = value } }
    func increment(by amount: Double) { current.withLock { $0 += amount } }
    func decrement(by amount: Double) { current.withLock { $0 -= amount } }
    func record(_ value: Int64) { set(Double(value)) }
    func record(_ value: Double) { set(value) }
}

/// Cumulative buckets as Prometheus wants them: each `le` bucket counts every sample at or below it.
final class PrometheusHistogram: RecorderHandler, Sendable {
    let buckets: [Double]
    private let state: Mutex<State>

    struct State {
        /// Per bucket, not cumulative; the last slot is +Inf.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    init(buckets: [Double]) {
        self.buckets = buckets
        self.state = Mutex(State(counts: Array(repeating: 0, count: buckets.count + 1)))
    }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        let slot = buckets.firstIndex(where: { value <= $0 }) ?? buckets.count
        state.withLock { state in
            state.counts[slot] += 1
            state.sum += value
            state.count += 1
        }
    }

    func render(name: String, labels: Labels, into text: inout String) {
        let snapshot = state.withLock { $0 }
        var cumulative: UInt64 = 0
        for (index, bound) in buckets.enumerated() {
            cumulative += snapshot.counts[index]
            text += "\(name)_bucket\(labels.rendered(extra: ("le", formatSample(bound)))) \(cumulative)\n"
        }
        cumulative += snapshot.counts[buckets.count]
        text += "\(name)_bucket\(labels.rendered(extra: ("le", "+Inf"))) \(cumulative)\n"
        text += "\(name)_sum\(labels.rendered()) \(formatSample(snapshot.sum))\n"
        text += "\(name)_count\(labels.rendered()) \(snapshot.count)\n"
    }
}

/// Durations recorded in seconds, the unit Prometheus expects.
final class PrometheusTimer: TimerHandler, Sendable {
    let histogram: PrometheusHistogram

    init(histogram: PrometheusHistogram) {
        self.histogram = histogram
    }

    func recordNanoseconds(_ duration: Int64) {
        histogram.record(Double(duration) / 1_000_000_000)
    }
}
