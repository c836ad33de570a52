import RunnelRaft

extension Simulation {
    // MARK: Liveness

    /// Heals everything, then requires a leader and a fresh proposal committed on a majority of its voters.
    func checkLiveness() {
        network.blocked = []
        network.faults.lossPerMille = 0
        network.faults.duplicatePerMille = 0
        trace.record(0xA1, UInt64(now), text: "@\(now) heal all for liveness")
        for node in nodes where !node.isUp { restart(node) }
        let deadline = now + options.livenessTicksMax * options.unitsPerTick
        var probe: (leader: NodeID, term: Term, index: LogIndex, data: [UInt8])?
        var probes: UInt64 = 0
        while now < deadline && checker.violations.isEmpty {
            step(faultsActive: false)
            guard let leader = currentLeader(), let raft = leader.raft else { continue }
            if probe == nil || probe!.leader != leader.id || probe!.term != raft.term {
                probes += 1
                let data = Array("probe-\(probes)".utf8)
                if let index = try? leader.raft!.propose(data) {
                    probe = (leader.id, raft.term, index, data)
                    trace.record(0xA2, leader.id.rawValue, index.rawValue, text: "@\(now) probe \(index) on \(leader.id)")
                }
                continue
            }
            let voters = raft.membership.voters
            let holding = voters.filter { voter in
                guard let node = nodes.first(where: { $0.id == voter.id }), node.directory == voter.directory,
                    let r = node.raft, r.commitIndex >= probe!.index
                else { return false }
                return r.entry(at: probe!.index).map { $0.data == probe!.data } ?? (r.snapshotMetadata.index >= probe!.index)
            }
            if holding.count * 2 > voters.count { return }
        }
        if checker.violations.isEmpty {
            checker.now = now
            let states = nodes.map { node -> String in
                guard let r = node.raft else { return "\(node.id) down" }
                return "\(node.member) \(r.role.rawValue) term \(r.term) last \(r.lastIndex) commit \(r.commitIndex) voters \(r.membership.voters) learners \(r.membership.learners)"
            }
            checker.fail(
                .liveness,
                "no proposal committed on a majority within \(options.livenessTicksMax) ticks of healing (probe: \(probe.map { "\($0.index)" } ?? "none")); nodes: \(states.joined(separator: "; "))"
            )
        }
    }

    func currentLeader() -> SimulatedNode? {
        var best: SimulatedNode?
        var bestTerm = Term.zero
        for node in nodes where node.isUp && node.role == .leader {
            let term = node.raft!.term
            if best == nil || term > bestTerm { (best, bestTerm) = (node, term) }
        }
        return best
    }
}
