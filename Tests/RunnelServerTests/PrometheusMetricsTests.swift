import CoreMetrics
import XCTest

@testable import RunnelServer

final class PrometheusMetricsTests: XCTestCase {
    func testTextFormatForEveryKind() {
        let factory = PrometheusMetricsFactory(histogramBuckets: [10, 100], timerBucketsSeconds: [0.001, 1])
        Counter(label: "requests_total", dimensions: [("api", "produce")], factory: factory).increment(by: 3)
        Counter(label: "requests_total", dimensions: [("api", "fetch")], factory: factory).increment()
        Meter(label: "connections", factory: factory).set(4)
        let sizes = Recorder(label: "batch_bytes", factory: factory)
        sizes.record(5)
        sizes.record(50)
        sizes.record(500)
        Timer(label: "latency_seconds", factory: factory).recordMilliseconds(2)

        XCTAssertEqual(
            factory.render(),
            """
            # TYPE requests_total counter
            requests_total{api="fetch"} 1
            requests_total{api="produce"} 3
            # TYPE connections gauge
            connections 4
            # TYPE batch_bytes histogram
            batch_bytes_bucket{le="10"} 1
            batch_bytes_bucket{le="100"} 2
            batch_bytes_bucket{le="+Inf"} 3
            batch_bytes_sum 555
            batch_bytes_count 3
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.001"} 0
            latency_seconds_bucket{le="1"} 1
            latency_seconds_bucket{le="+Inf"} 1
            latency_seconds_sum 0.002
            latency_seconds_count 1

            """)
    }

    func testNamesAreSanitisedAndLabelValuesEscaped() {
        let factory = PrometheusMetricsFactory()
        Counter(label: "runnel.bytes-in", dimensions: [("topic name", "a\"b\\c\nd")], factory: factory).increment()
        XCTAssertEqual(
            factory.render(),
            "# TYPE runnel_bytes_in counter\nrunnel_bytes_in{topic_name=\"a\\\"b\\\\c\\nd\"} 1\n")
    }

    func testSameLabelAndDimensionsShareOneSeries() {
        let factory = PrometheusMetricsFactory()
        Counter(label: "x_total", factory: factory).increment()
        Counter(label: "x_total", factory: factory).increment()
        XCTAssertEqual(factory.render(), "# TYPE x_total counter\nx_total 2\n")
    }
}
