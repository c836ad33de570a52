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

    /// The mallctl calls themselves, against Debian's jemalloc loaded privately (it does not become this
    /// process's malloc, but answers for its own heap).
    func testMallctlReadsVersionAndStatisticsOfARealJemalloc() throws {
        guard let handle = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("libjemalloc.so.2 is missing (apt-get install libjemalloc-dev)")
            }
            throw XCTSkip("libjemalloc.so.2 is not installed")
        }
        let symbol = try XCTUnwrap(dlsym(handle, "mallctl"))
        let reader = JemallocReader(symbol: symbol)
        XCTAssertTrue(reader.version.hasPrefix("5."), reader.version)
        let stats = try XCTUnwrap(reader.stats())
        XCTAssertNotNil(stats.residentBytes)
        XCTAssertNotNil(stats.mappedBytes)
        XCTAssertGreaterThanOrEqual(stats.activeBytes ?? 0, stats.allocatedBytes)
    }
    #endif
}
