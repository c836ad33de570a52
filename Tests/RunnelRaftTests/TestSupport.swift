import RunnelRaft

/// Helpers for unit tests that drive nodes by hand.
func voter(_ id: UInt64, generation: UInt64 = 0) -> Voter {
    Voter(id: NodeID(id), directory: DirectoryID(high: generation, low: id))
}

func makeNode(
    _ id: UInt64, voters: [UInt64], generation: UInt64 = 0, seed: UInt64 = 1, preVote: Bool = false,
    checkQuorum: Bool = false, faults: RaftFaults = RaftFaults()
) -> RaftNode {
    let config = RaftConfig(
        id: NodeID(id), directory: DirectoryID(high: generation, low: id), electionTicks: 10, heartbeatTicks: 1,
        preVote: preVote, checkQuorum: checkQuorum, seed: seed, faults: faults)
    return RaftNode(config: config, state: .bootstrap(voters: voters.map { voter($0) }))
}

extension RaftNode {
    /// Takes and acknowledges the pending Ready (as a driver that persisted and applied it).
    mutating func drain() -> Ready {
        guard let ready = ready() else { return Ready() }
        advance(ready)
        return ready
    }
}

/// A seeded generator for tests (xorshift64*), independent of the core's.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
