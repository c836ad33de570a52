import Foundation
import Synchronization
import XCTest

@testable import RunnelServer

#if canImport(Glibc)
import Glibc
#endif

final class AllocatorMetricsTests: XCTestCase {
    /// An allocator whose statistics the test sets.
    final class FakeAllocator: AllocatorReader {
        let name = "jemalloc"
        let version = "5.3.0"
        let current: Mutex<AllocatorStats?>
        init(_ stats: AllocatorStats?) { current = Mutex(stats) }
        func stats() -> AllocatorStats? { current.withLock { $0 } }
    }

    func testStatisticsAreReadAfreshAtEveryScrape() {
        let factory = PrometheusMetricsFactory()
        let allocator = FakeAllocator(
            AllocatorStats(allocatedBytes: 100, activeBytes: 4096, residentBytes: 8192, mappedBytes: 16384, retainedBytes: 0))
        AllocatorMetrics.register(allocator, on: factory)
        XCTAssertEqual(
            factory.render(),
            """
            # TYPE runnel_allocator_active_bytes gauge
            runnel_allocator_active_bytes 4096
            # TYPE runnel_allocator_allocated_bytes gauge
            runnel_allocator_allocated_bytes 100
            # TYPE runnel_allocator_info gauge
            runnel_allocator_info{allocator="jemalloc",version="5.3.0"} 1
            # TYPE runnel_allocator_mapped_bytes gauge
            runnel_allocator_mapped_bytes 16384
            # TYPE runnel_allocator_resident_bytes gauge
            runnel_allocator_resident_bytes 8192
            # TYPE runnel_allocator_retained_bytes gauge
            runnel_allocator_retained_bytes 0

            """)
        allocator.current.withLock { $0?.allocatedBytes = 5_000_000_000 }
        XCTAssertTrue(factory.render().contains("runnel_allocator_allocated_bytes 5000000000\n"))
    }

    func testOnlyStatisticsTheAllocatorKeepsAreExported() {
        let factory = PrometheusMetricsFactory()
        AllocatorMetrics.register(FakeAllocator(AllocatorStats(allocatedBytes: 7)), on: factory)
        XCTAssertEqual(
            factory.render(),
            """
            # TYPE runnel_allocator_allocated_bytes gauge
            runnel_allocator_allocated_bytes 7
            # TYPE runnel_allocator_info gauge
            runnel_allocator_info{allocator="jemalloc",version="5.3.0"} 1

            """)
    }

    func testAllocatorWithoutStatisticsIsStillNamed() {
        let factory = PrometheusMetricsFactory()
        AllocatorMetrics.register(FakeAllocator(nil), on: factory)
        XCTAssertEqual(
            factory.render(),
            "# TYPE runnel_allocator_info gauge\nrunnel_allocator_info{allocator=\"jemalloc\",version=\"5.3.0\"} 1\n")
    }

    func testStartLogNamesTheAllocatorAndItsVersion() {
        XCTAssertEqual(FakeAllocator(nil).summary, "jemalloc 5.3.0")
        #if os(Linux)
        XCTAssertTrue(SystemMallocReader().summary.hasPrefix("glibc malloc 2."), SystemMallocReader().summary)
        #endif
    }

    #if os(Linux)
    /// The test process runs on glibc's malloc (only the image links jemalloc), so detection must say so.
    func testProcessWithoutJemallocDetectsGlibc() {
        let allocator = Allocator.detect()
        XCTAssertEqual(allocator.name, "glibc")
        XCTAssertNil(allocator.stats())
    }

    /// The mallctl calls themselves, in a process that runs on Debian's jemalloc: this test runs itself
    /// again with LD_PRELOAD (jemalloc cannot be dlopened later: it uses static TLS), and the child checks
    /// what the broker would log and export.
    func testJemallocInTheProcessIsDetectedAndReadsItsStatistics() throws {
        let environment = ProcessInfo.processInfo.environment
        if environment[Self.childMarker] == "1" {
            let allocator = Allocator.detect()
            XCTAssertEqual(allocator.name, "jemalloc")
            XCTAssertTrue(allocator.summary.hasPrefix("jemalloc 5."), allocator.summary)
            let stats = try XCTUnwrap(allocator.stats())
            XCTAssertGreaterThan(stats.allocatedBytes, 0)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(stats.activeBytes), stats.allocatedBytes)
            XCTAssertGreaterThan(try XCTUnwrap(stats.residentBytes), 0)
            XCTAssertGreaterThan(try XCTUnwrap(stats.mappedBytes), 0)
            return
        }
        let library = ["/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"]
            .first { FileManager.default.fileExists(atPath: $0) }
        guard let library else {
            if environment["CI"] == "true" { XCTFail("libjemalloc.so.2 is missing (apt-get install libjemalloc-dev)") }
            throw XCTSkip("libjemalloc.so.2 is not installed")
        }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        child.arguments = ["RunnelServerTests.AllocatorMetricsTests/testJemallocInTheProcessIsDetectedAndReadsItsStatistics"]
        child.environment = environment.merging([Self.childMarker: "1", "LD_PRELOAD": library]) { _, new in new }
        let output = Pipe()
        child.standardOutput = output
        child.standardError = output
        try child.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("Executed 1 test, with 0 failures"), text)
    }

    static let childMarker = "RUNNEL_ALLOCATOR_TEST_CHILD"
    #endif
}
