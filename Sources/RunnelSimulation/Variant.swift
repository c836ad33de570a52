import RunnelRaft

/// Deliberately broken driver behaviours, for tests only: they prove the checkers can fail.
public struct DriverFaults: Hashable, Sendable {
    /// Messages of a `Ready` leave before its fsync completes, so a crash can lose what they promised.
    public var sendBeforeFsync: Bool
    /// A restarted node forgets whom it voted for in its current term.
    public var forgetVoteOnRestart: Bool
    public init(sendBeforeFsync: Bool = false, forgetVoteOnRestart: Bool = false) {
        self.sendBeforeFsync = sendBeforeFsync
        self.forgetVoteOnRestart = forgetVoteOnRestart
    }
}

/// The correct system, or one broken variant of the core or the driver.
public enum Variant: String, CaseIterable, Hashable, Sendable {
    case correct
    case commitByCountingOlderTermEntries
    case skipLogMatchingCheck
    case sendBeforeFsync
    case forgetVoteOnRestart

    public var raftFaults: RaftFaults {
        switch self {
        case .commitByCountingOlderTermEntries: return RaftFaults(commitByCountingOlderTermEntries: true)
        case .skipLogMatchingCheck: return RaftFaults(skipLogMatchingCheck: true)
        default: return .none
        }
    }

    public var driverFaults: DriverFaults {
        switch self {
        case .sendBeforeFsync: return DriverFaults(sendBeforeFsync: true)
        case .forgetVoteOnRestart: return DriverFaults(forgetVoteOnRestart: true)
        default: return DriverFaults()
        }
    }
}
