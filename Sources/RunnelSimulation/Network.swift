import RunnelRaft
import RunnelStorage

/// A directed link between two nodes.
public struct Link: Hashable, Sendable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID
    public init(from: NodeID, to: NodeID) { self.from = from; self.to = to }
    public var description: String { "\(from)->\(to)" }
}

/// How the network misbehaves in one run.
public struct NetworkFaults: Hashable, Sendable {
    /// Per mille of messages dropped.
    public var lossPerMille: Int
    /// Per mille of messages delivered twice.
    public var duplicatePerMille: Int
    /// Each copy is delayed uniformly in [1, delayUnitsMax]; independent delays reorder messages.
    public var delayUnitsMax: Int
    public init(lossPerMille: Int, duplicatePerMille: Int, delayUnitsMax: Int) {
        precondition(delayUnitsMax >= 1 && delayUnitsMax < SimulatedNetwork.horizonUnits)
        self.lossPerMille = lossPerMille
        self.duplicatePerMille = duplicatePerMille
        self.delayUnitsMax = delayUnitsMax
    }
}

/// Messages in flight, bucketed by delivery time; partitions block links at delivery time, so a message
/// sent before a partition and due after it is lost too.
struct SimulatedNetwork {
    /// Delays stay below this many units (one bucket per unit in a ring).
    static let horizonUnits = 256
    /// The limit on messages in flight; beyond it new ones are dropped as a full queue would.
    static let inFlightMax = 50_000

    var faults: NetworkFaults
    var blocked: Set<Link> = []
    private var buckets: [[Message]] = Array(repeating: [], count: horizonUnits)
    private(set) var inFlight = 0
    private(set) var dropped = 0

    init(faults: NetworkFaults) { self.faults = faults }

    mutating func send(_ message: Message, now: Int, random: inout SplitMix64) {
        if Int(random.next() % 1000) < faults.lossPerMille { dropped += 1; return }
        let copies = Int(random.next() % 1000) < faults.duplicatePerMille ? 2 : 1
        for _ in 0..<copies {
            guard inFlight < Self.inFlightMax else { dropped += 1; return }
            let delay = 1 + Int(random.next() % UInt64(faults.delayUnitsMax))
            buckets[(now + delay) % Self.horizonUnits].append(message)
            inFlight += 1
        }
    }

    /// The messages due now that no partition blocks, in send order.
    mutating func deliverDue(now: Int) -> [Message] {
        let slot = now % Self.horizonUnits
        let due = buckets[slot]
        buckets[slot] = []
        inFlight -= due.count
        if blocked.isEmpty { return due }
        let open = due.filter { !blocked.contains(Link(from: $0.from, to: $0.to)) }
        dropped += due.count - open.count
        return open
    }
}

/// A partition of the network: which directed links are cut.
public enum Partition: Hashable, Sendable, CustomStringConvertible {
    /// One node can neither send nor receive.
    case isolate(NodeID)
    /// Two sides that cannot talk to each other.
    case split([NodeID])
    /// Messages from `from` to `to` are lost; the other direction works.
    case oneWay(from: NodeID, to: NodeID)
    /// Every node reaches only its ring neighbours (with 5 nodes, each sees a majority including itself).
    case majorityRing

    public var description: String {
        switch self {
        case .isolate(let n): return "isolate(\(n))"
        case .split(let side): return "split(\(side.map(\.description).joined(separator: ",")) | rest)"
        case .oneWay(let a, let b): return "oneWay(\(a)->\(b))"
        case .majorityRing: return "majorityRing"
        }
    }

    func blockedLinks(nodes: [NodeID]) -> Set<Link> {
        var links: Set<Link> = []
        switch self {
        case .isolate(let n):
            for other in nodes where other != n {
                links.insert(Link(from: n, to: other))
                links.insert(Link(from: other, to: n))
            }
        case .split(let side):
            for a in side { for b in nodes where !side.contains(b) {
                links.insert(Link(from: a, to: b))
                links.insert(Link(from: b, to: a))
            } }
        case .oneWay(let a, let b):
            links.insert(Link(from: a, to: b))
        case .majorityRing:
            let count = nodes.count
            for (i, a) in nodes.enumerated() {
                for (j, b) in nodes.enumerated() where i != j {
                    let distance = min((i - j + count) % count, (j - i + count) % count)
                    if distance > 1 { links.insert(Link(from: a, to: b)) }
                }
            }
        }
        return links
    }
}
