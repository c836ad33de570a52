/// The classic group's life cycle. `description` is the name Kafka reports in DescribeGroups/ListGroups.
public enum GroupState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"

    public var description: String { rawValue }

    /// Kafka's allowed predecessors; any other transition is a bug in the core.
    func canFollow(_ previous: GroupState) -> Bool {
        switch self {
        case .empty: return previous == .preparingRebalance
        case .preparingRebalance: return [.stable, .completingRebalance, .empty].contains(previous)
        case .completingRebalance: return previous == .preparingRebalance
        case .stable: return previous == .completingRebalance
        case .dead: return [.stable, .preparingRebalance, .completingRebalance, .empty, .dead].contains(previous)
        }
    }
}
