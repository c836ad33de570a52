import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

/// A deterministic cluster of `RaftNode`s in one process: one seeded generator drives the network,
/// fsync latency, client proposals and tears; a plan drawn from the same seed drives the faults.
/// Same seed, same trace.
///
/// Time is virtual, in units (`unitsPerTick` per nominal tick; each node ticks every 8–11 units, its
/// drift). Each unit: scheduled faults, client proposals, the membership manager, ticks, deliveries, then
/// every node's Ready handling (`Simulation+Driver.swift`), with the checkers fed as things happen. Each
/// node's disk is a `SimulatedFileSystem` holding a `RaftWAL`; a crash keeps only what was synced (or a
/// seeded torn prefix of the rest) and the node restarts from what `RaftWAL.open` recovers.
/// After the fault phase everything is healed and `checkLiveness` requires a fresh commit.
public final class Simulation {
    public let options: SimulationOptions
    public let plan: FaultPlan
    /// Small segments keep simulated files short (each write copies its file) and exercise rolling.
    static let segmentBytesMax = 8 << 10
    let nodes: [SimulatedNode]
    let nodeIDs: [NodeID]
    var network: SimulatedNetwork
    var random: SplitMix64
    var checker = InvariantChecker()
    var trace: Trace
    var now = 0
    var scheduleNext = 0
    var proposalCounter: UInt64 = 0
    var commitIndexMax = LogIndex.zero

    public init(options: SimulationOptions) {
        self.options = options
        nodeIDs = (1...options.nodeCount).map { NodeID(UInt64($0)) }
        plan = FaultPlan.draw(
            seed: options.seed, nodes: nodeIDs, faultPhaseUnits: options.faultPhaseTicks * options.unitsPerTick,
            unitsPerTick: options.unitsPerTick)
        random = SplitMix64(seed: options.seed)
        network = SimulatedNetwork(faults: plan.network)
        trace = Trace(keepsText: options.keepsEventText)
        var directories = SplitMix64(seed: options.seed ^ 0xD1_EC70_4100)
        nodes = zip(nodeIDs, plan.tickPeriodUnits).map { id, period in
            SimulatedNode(id: id, tickPeriodUnits: period, directory: DirectoryID.random(using: &directories))
        }
        let voters = nodes.map(\.member)
        for node in nodes {
            do {
                try RaftWAL.format(
                    fileSystem: node.fileSystem, path: node.path,
                    identity: DirectoryIdentity(nodeID: node.id, directoryID: node.directory),
                    initialState: .bootstrap(voters: voters))
            } catch {
                preconditionFailure("formatting a simulated disk failed: \(error)")
            }
            start(node)
        }
    }

    public static func run(_ options: SimulationOptions) -> SimulationResult {
        Simulation(options: options).run()
    }

    public func run() -> SimulationResult {
        let faultEnd = options.faultPhaseTicks * options.unitsPerTick
        while now < faultEnd && checker.violations.isEmpty { step(faultsActive: true) }
        // Liveness is required of the configuration Runnel runs: pre-vote and check-quorum. Without
        // pre-vote (a quarter of the plans, kept for their safety coverage) a node whose clock runs fast
        // can keep deposing candidates with higher terms after healing, a known limit of plain Raft:
        // there only the safety checkers apply. (Sweep of 50 000 seeds: 29 such stalls, all preVote false.)
        if checker.violations.isEmpty && plan.preVote { checkLiveness() }
        return SimulationResult(
            options: options, plan: plan, violations: checker.violations, traceHash: trace.hash,
            eventCount: trace.eventCount, unitsRun: now, commitIndexMax: commitIndexMax, recentEvents: trace.recentEvents)
    }

    // MARK: One step of virtual time

    func step(faultsActive: Bool) {
        checker.now = now
        if faultsActive {
            while scheduleNext < plan.schedule.count && plan.schedule[scheduleNext].atUnits <= now {
                apply(plan.schedule[scheduleNext].fault)
                scheduleNext += 1
            }
        }
        for node in nodes where !node.isUp && (node.restartAtUnits ?? Int.max) <= now {
            node.restartAtUnits = nil
            restart(node)
        }
        // Clients go quiet once healed: liveness asks whether the cluster recovers, not how it keeps up.
        if faultsActive && Int(random.next() % 1000) < plan.clientProposalPerMille { proposeFromClient() }
        if now % options.unitsPerTick == 0 { manageMembership() }
        for node in nodes where node.isUp && now >= node.nextTickAtUnits {
            node.raft!.tick()
            node.nextTickAtUnits += node.tickPeriodUnits
        }
        for message in network.deliverDue(now: now) {
            guard let node = nodes.first(where: { $0.id == message.to }), node.isUp else { continue }
            trace.record(0xD0, message.from.rawValue, message.to.rawValue, message.term.rawValue, messageTag(message.kind),
                text: "@\(now) deliver \(message)")
            node.raft!.step(message)
        }
        for node in nodes where node.isUp {
            process(node)
            if !checker.violations.isEmpty { return }
        }
        now += 1
    }
}
