#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// jemalloc's statistics through its `mallctl`, found with `dlsym` so that a build without jemalloc
/// still links and runs (and then reports the system allocator instead).
struct JemallocReader: AllocatorReader {
    /// `int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)`
    typealias Mallctl = @Sendable @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
    ) -> Int32

    let name = "jemalloc"
    let version: String
    private let mallctl: Mallctl

    /// The reader for the jemalloc linked into this process, or nil when there is none.
    static func inProcess() -> JemallocReader? {
        #if os(Linux)
        // A nil handle is RTLD_DEFAULT: every object loaded into the process, in load order.
        guard let symbol = dlsym(nil, "mallctl") else { return nil }
        return JemallocReader(symbol: symbol)
        #else
        return nil
        #endif
    }

    /// `symbol`: the address of a jemalloc `mallctl`.
    init(symbol: UnsafeMutableRawPointer) {
        let mallctl = unsafeBitCast(symbol, to: Mallctl.self)
        self.mallctl = mallctl
        var text: UnsafePointer<CChar>? = nil
        var length = MemoryLayout<UnsafePointer<CChar>?>.size
        let status = mallctl("version", &text, &length, nil, 0)
        // "5.3.0-0-g54eaed1d…": the release, without the git description.
        let full = status == 0 ? text.map { String(cString: $0) } ?? "" : ""
        self.version = String(full.prefix(while: { $0 != "-" }))
    }

    func stats() -> AllocatorStats? {
        // Statistics are a snapshot taken when the epoch advances.
        var newEpoch: UInt64 = 1
        var oldEpoch: UInt64 = 0
        var epochLength = MemoryLayout<UInt64>.size
        guard mallctl("epoch", &oldEpoch, &epochLength, &newEpoch, MemoryLayout<UInt64>.size) == 0,
            let allocated = size("stats.allocated")
        else { return nil }
        return AllocatorStats(
            allocatedBytes: allocated, activeBytes: size("stats.active"), residentBytes: size("stats.resident"),
            mappedBytes: size("stats.mapped"), retainedBytes: size("stats.retained"))
    }

    private func size(_ key: String) -> UInt64? {
        var value = 0
        var length = MemoryLayout<Int>.size
        guard mallctl(key, &value, &length, nil, 0) == 0, value >= 0 else { return nil }
        return UInt64(value)
    }
}

/// The C library's malloc, which keeps no statistics this process can read cheaply; it is named only.
struct SystemMallocReader: AllocatorReader {
    let name: String
    let version: String

    init() {
        #if os(Linux)
        typealias VersionFunction = @convention(c) () -> UnsafePointer<CChar>?
        name = "glibc"
        if let symbol = dlsym(nil, "gnu_get_libc_version"),
            let text = unsafeBitCast(symbol, to: VersionFunction.self)()
        {
            version = String(cString: text)
        } else {
            version = ""
        }
        #else
        name = "system"
        version = ""
        #endif
    }

    var summary: String { version.isEmpty ? "\(name) malloc" : "\(name) malloc \(version)" }

    func stats() -> AllocatorStats? { nil }
}
