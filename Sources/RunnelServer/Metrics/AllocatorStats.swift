/// What the process's memory allocator says about itself, in bytes. Fields an allocator cannot
/// report are nil and are not exported.
public struct AllocatorStats: Equatable, Sendable {
    /// Bytes handed out to the program and not yet freed.
    public var allocatedBytes: UInt64
    /// Bytes in pages that hold live allocations (jemalloc `stats.active`).
    public var activeBytes: UInt64?
    /// Bytes physically resident in pages the allocator holds, metadata included (`stats.resident`).
    public var residentBytes: UInt64?
    /// Bytes in extents mapped from the kernel and in use (`stats.mapped`).
    public var mappedBytes: UInt64?
    /// Bytes kept as virtual memory for reuse instead of being unmapped (`stats.retained`).
    public var retainedBytes: UInt64?

    public init(
        allocatedBytes: UInt64, activeBytes: UInt64? = nil, residentBytes: UInt64? = nil,
        mappedBytes: UInt64? = nil, retainedBytes: UInt64? = nil
    ) {
        self.allocatedBytes = allocatedBytes
        self.activeBytes = activeBytes
        self.residentBytes = residentBytes
        self.mappedBytes = mappedBytes
        self.retainedBytes = retainedBytes
    }

    /// The gauges these statistics become, by Prometheus name.
    var samples: [(name: String, bytes: UInt64)] {
        let all: [(String, UInt64?)] = [
            ("runnel_allocator_allocated_bytes", allocatedBytes),
            ("runnel_allocator_active_bytes", activeBytes),
            ("runnel_allocator_resident_bytes", residentBytes),
            ("runnel_allocator_mapped_bytes", mappedBytes),
            ("runnel_allocator_retained_bytes", retainedBytes),
        ]
        return all.compactMap { name, bytes in bytes.map { (name, $0) } }
    }
}

/// Reads an allocator's identity and statistics. The broker uses `Allocator.detect()`; tests pass a fake.
public protocol AllocatorReader: Sendable {
    /// `jemalloc` or `glibc`.
    var name: String { get }
    /// The allocator's own version, e.g. `5.3.0`; empty when unknown.
    var version: String { get }
    /// How the broker names it in its start log: `jemalloc 5.3.0`.
    var summary: String { get }
    /// Fresh statistics, or nil when the allocator keeps none the process can read.
    func stats() -> AllocatorStats?
}

extension AllocatorReader {
    public var summary: String { version.isEmpty ? name : "\(name) \(version)" }
}

public enum Allocator {
    /// The allocator this process runs on: jemalloc when its `mallctl` is in the process (the image links
    /// it), else the C library's malloc. Looked up at run time so one source serves both builds.
    public static func detect() -> any AllocatorReader {
        JemallocReader.inProcess() ?? SystemMallocReader()
    }
}
