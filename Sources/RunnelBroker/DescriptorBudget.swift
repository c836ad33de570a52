#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelMetadata

/// What the process's file-descriptor limit allows, read once at start. Every segment keeps three files
/// open (log, offset index, time index); a partition is budgeted two segments (the active one and the
/// one a roll leaves before retention), and a reserve stays for connections, the metadata log,
/// checkpoints and the cleaner. Past the derived limit a create is refused; otherwise the partitions
/// past the descriptors would have no log and the next start would fail with EMFILE.
struct DescriptorBudget: Sendable {
    static let descriptorsPerSegment = 3
    static let segmentsPerPartition = 2
    static let descriptorsReserved = 1024

    /// The soft `RLIMIT_NOFILE`; nil when it cannot be read or is unlimited.
    let descriptorLimit: Int?

    /// The soft `RLIMIT_NOFILE` after raising it to the hard limit (as servers do: the soft default of
    /// 1024 on many systems would allow a hundred partitions); nil when unreadable or unlimited.
    static func current() -> DescriptorBudget {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return DescriptorBudget(descriptorLimit: nil) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur != rlim_t.max else { return DescriptorBudget(descriptorLimit: nil) }  // RLIM_INFINITY: all bits set
        return DescriptorBudget(descriptorLimit: Int(clamping: limit.rlim_cur))
    }

    /// Descriptors kept back from partitions: 1024, or a quarter of a small limit.
    static func reserved(of limit: Int) -> Int { min(descriptorsReserved, limit / 4) }

    /// Partitions one broker can keep open: at least one.
    var partitionsMax: Int? {
        descriptorLimit.map { max(($0 - Self.reserved(of: $0)) / (Self.descriptorsPerSegment * Self.segmentsPerPartition), 1) }
    }

    /// The limits to enforce: explicit settings win; otherwise the partitions the descriptors allow, and
    /// as many topics (every topic has a partition on some broker; on one node that bounds the topics).
    func limits(partitionsPerBrokerMax: Int?, topicsMax: Int?) -> TopicLimits {
        let partitions = partitionsPerBrokerMax ?? partitionsMax ?? .max
        let reason: String
        if partitionsPerBrokerMax != nil {
            reason = "configured"
        } else if let descriptorLimit {
            reason = "derived from the file descriptor limit of \(descriptorLimit): \(Self.descriptorsPerSegment) per segment, \(Self.segmentsPerPartition) segments per partition, \(Self.reserved(of: descriptorLimit)) reserved"
        } else {
            reason = "the file descriptor limit is unlimited or unreadable"
        }
        return TopicLimits(partitionsPerBrokerMax: partitions, topicsMax: topicsMax ?? partitions, reason: reason)
    }
}
