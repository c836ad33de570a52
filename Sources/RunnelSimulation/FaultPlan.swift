import RunnelRaft
import RunnelStorage

/// One scheduled fault.
public enum Fault: Hashable, Sendable, CustomStringConvertible {
    /// Power loss: unsynced writes are lost, or (torn) a seeded prefix of them is kept.
    case crash(NodeID, torn: Bool)
    case restart(NodeID)
    /// Power loss and a new, empty disk: the node returns with a new directory id.
    case wipe(NodeID)
    /// Every later fsync of the node's disk fails. The driver must stop the node (a failed fsync is final);
    /// the disk is replaced and the node returns with a new directory id.
    case failDisk(NodeID)
    case partition(Partition)
    case heal
    /// The leader removes this voter; the membership manager re-adds it later (as learner, then voter).
    case removeVoter(NodeID)
    /// Cut whichever node leads now (if any) off from the others: it keeps taking proposals it cannot
    /// replicate, the stuff of the Raft paper's Figure 8.
    case isolateLeader
    /// Crash whichever node leads now (if any); it restarts after `restartUnits`.
    case crashLeader(restartUnits: Int)
    /// For `windowUnits`, crash the node right after each vote it grants has left; it restarts after
    /// `restartUnits`. Aims at the window where a vote is promised but (broken drivers) not durable or
    /// forgotten, while another candidate of the same term may still ask.
    case crashAfterVotes(NodeID, windowUnits: Int, restartUnits: Int)

    public var description: String {
        switch self {
        case .crash(let n, let torn): return "crash(\(n)\(torn ? ", torn" : ""))"
        case .restart(let n): return "restart(\(n))"
        case .wipe(let n): return "wipe(\(n))"
        case .failDisk(let n): return "failDisk(\(n))"
        case .partition(let p): return "partition(\(p))"
        case .heal: return "heal"
        case .removeVoter(let n): return "removeVoter(\(n))"
        case .isolateLeader: return "isolateLeader"
        case .crashLeader(let r): return "crashLeader(restart after \(r))"
        case .crashAfterVotes(let n, let w, let r): return "crashAfterVotes(\(n), for \(w), restart after \(r))"
        }
    }
}

public struct ScheduledFault: Hashable, Sendable, CustomStringConvertible {
    public var atUnits: Int
    public var fault: Fault
    public var description: String { "@\(atUnits) \(fault)" }
}

/// Everything a seed decides before the run: network misbehaviour, fsync latency, clock drift, Raft
/// options and the fault schedule. Printed with a failing seed.
public struct FaultPlan: Hashable, Sendable, CustomStringConvertible {
    public var network: NetworkFaults
    public var fsyncLatencyUnitsMax: Int
    /// Units per tick of each node (10 is nominal; lower ticks faster).
    public var tickPeriodUnits: [Int]
    public var preVote: Bool
    /// Small values split replication into many appends, which exposes commit-rule bugs.
    public var entriesPerAppendMax: Int
    public var clientProposalPerMille: Int
    public var schedule: [ScheduledFault]

    public var description: String {
        var lines = [
            "network: loss \(network.lossPerMille)‰, duplicate \(network.duplicatePerMille)‰, delay 1...\(network.delayUnitsMax) units",
            "fsync latency 0...\(fsyncLatencyUnitsMax) units, tick periods \(tickPeriodUnits), preVote \(preVote), entriesPerAppendMax \(entriesPerAppendMax), proposals \(clientProposalPerMille)‰/unit",
            "schedule (\(schedule.count) faults):",
        ]
        lines += schedule.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Draws a plan. `faultPhaseUnits` bounds the schedule; everything is healed after it.
    static func draw(seed: UInt64, nodes: [NodeID], faultPhaseUnits: Int, unitsPerTick: Int) -> FaultPlan {
        var random = SplitMix64(seed: seed ^ 0x5EED_F00D_0000_0001)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let network = NetworkFaults(
            lossPerMille: below(4) == 0 ? 0 : below(120), duplicatePerMille: below(60),
            delayUnitsMax: 1 + below(3 * unitsPerTick))
        // Drift within ±20%: beyond that a fast node without pre-vote keeps disrupting slower ones with
        // higher terms, and elections rarely finish (a liveness limit of Raft, not a bug).
        let periods = nodes.map { _ in below(3) == 0 ? unitsPerTick - 1 - below(unitsPerTick / 5) : unitsPerTick + below(2) }
        var schedule: [ScheduledFault] = []
        var down: Set<NodeID> = []
        var wipesLeft = nodes.count >= 5 ? 2 : 1
        var lastWipeAt = -1_000_000
        var time = below(4 * unitsPerTick)
        var pendingRestarts: [(at: Int, node: NodeID)] = []
        while time < faultPhaseUnits {
            // Restarts that fall before this fault come first, keeping `down` true at each time.
            pendingRestarts.sort { $0.at < $1.at }
            while let first = pendingRestarts.first, first.at <= time {
                schedule.append(ScheduledFault(atUnits: first.at, fault: .restart(first.node)))
                down.remove(first.node)
                pendingRestarts.removeFirst()
            }
            let upNodes = nodes.filter { !down.contains($0) }
            let roll = below(100)
            if roll < 35, upNodes.count > 0 {
                let node = upNodes[below(upNodes.count)]
                let canWipe = wipesLeft > 0 && time - lastWipeAt > 150 * unitsPerTick && down.isEmpty
                if canWipe && below(6) == 0 {
                    schedule.append(ScheduledFault(atUnits: time, fault: below(3) == 0 ? .failDisk(node) : .wipe(node)))
                    wipesLeft -= 1
                    lastWipeAt = time
                } else {
                    schedule.append(ScheduledFault(atUnits: time, fault: .crash(node, torn: below(2) == 0)))
                }
                down.insert(node)
                // Quick restarts matter: a node that returns within an election can vote again.
                let delay = below(3) == 0 ? 1 + below(unitsPerTick) : 1 + below(30 * unitsPerTick)
                pendingRestarts.append((time + delay, node))
            } else if roll < 62 {
                let partition: Partition
                if below(3) == 0 {
                    schedule.append(ScheduledFault(atUnits: time, fault: .isolateLeader))
                    time += 1 + below(25 * unitsPerTick)
                    continue
                }
                switch below(4) {
                case 0: partition = .isolate(nodes[below(nodes.count)])
                case 1:
                    let size = 1 + below(max(1, nodes.count / 2))
                    var side: [NodeID] = []
                    while side.count < size {
                        let n = nodes[below(nodes.count)]
                        if !side.contains(n) { side.append(n) }
                    }
                    partition = .split(side.sorted())
                case 2:
                    let a = nodes[below(nodes.count)]
                    var b = nodes[below(nodes.count)]
                    while b == a { b = nodes[below(nodes.count)] }
                    partition = .oneWay(from: a, to: b)
                default:
                    partition = nodes.count >= 5 ? .majorityRing : .isolate(nodes[below(nodes.count)])
                }
                schedule.append(ScheduledFault(atUnits: time, fault: .partition(partition)))
            } else if roll < 80 {
                schedule.append(ScheduledFault(atUnits: time, fault: .heal))
            } else if roll < 87 {
                schedule.append(ScheduledFault(atUnits: time, fault: .crashLeader(restartUnits: 1 + below(20 * unitsPerTick))))
            } else if roll < 95 {
                schedule.append(
                    ScheduledFault(
                        atUnits: time,
                        fault: .crashAfterVotes(
                            nodes[below(nodes.count)], windowUnits: 100 * unitsPerTick, restartUnits: 1 + below(3))))
            } else {
                schedule.append(ScheduledFault(atUnits: time, fault: .removeVoter(nodes[below(nodes.count)])))
            }
            time += 1 + below(25 * unitsPerTick)
        }
        for restart in pendingRestarts.sorted(by: { $0.at < $1.at }) {
            schedule.append(ScheduledFault(atUnits: max(restart.at, time), fault: .restart(restart.node)))
        }
        schedule.sort { $0.atUnits < $1.atUnits }
        return FaultPlan(
            network: network, fsyncLatencyUnitsMax: below(2 * unitsPerTick), tickPeriodUnits: periods,
            preVote: below(4) != 0, entriesPerAppendMax: [1, 2, 8][below(3)], clientProposalPerMille: 20 + below(100), schedule: schedule)
    }
}
