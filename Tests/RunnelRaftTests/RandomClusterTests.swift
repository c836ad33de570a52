import Foundation
import RunnelRaft
import XCTest

/// A seeded, randomized cluster (lossy, reordering, duplicating network; crashes; partitions; membership
/// changes; compaction) checked after every event for election safety and state machine safety, then
/// healed and checked for progress. The deterministic simulator does this at scale; this keeps the core
/// honest on its own.
final class RandomClusterTests: XCTestCase {
    func testRandomHistoriesKeepSafetyAndRecover() throws {
        let seedCount = Int(ProcessInfo.processInfo.environment["RUNNEL_RAFT_SEEDS"] ?? "60")!
        for seed in 1...UInt64(seedCount) {
            var cluster = RandomCluster(seed: seed, nodeCount: seed % 2 == 0 ? 5 : 3)
            for _ in 0..<1500 {
                cluster.randomEvent()
                if let violation = cluster.violation {
                    XCTFail("seed \(seed): \(violation)")
                    return
                }
            }
            cluster.checkLogs()
            cluster.healAndSettle()
            cluster.checkLogs()
            if let violation = cluster.violation {
                XCTFail("seed \(seed): \(violation)")
                return
            }
        }
    }

    /// The same checks catch a deliberately broken variant, so they can fail. (The broken Figure 8 rule
    /// needs a rarer interleaving; figure8-fault.txt shows it.)
    func testCheckersCatchFollowerThatSkipsLogMatching() {
        var caughtSeed: UInt64?
        for seed in 1...UInt64(400) where caughtSeed == nil {
            var cluster = RandomCluster(
                seed: seed, nodeCount: seed % 2 == 0 ? 5 : 3, faults: RaftFaults(skipLogMatchingCheck: true))
            for _ in 0..<1500 where cluster.violation == nil { cluster.randomEvent() }
            if cluster.violation != nil { caughtSeed = seed }
        }
        XCTAssertNotNil(caughtSeed, "skipping the log matching check was never caught")
    }
}

struct RandomCluster {
    var rng: TestRandom
    var configs: [NodeID: RaftConfig] = [:]
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: PersistentState] = [:]
    /// Per node, the index its state machine has applied through.
    var applied: [NodeID: LogIndex] = [:]
    var network: [Message] = []
    var groups: [NodeID: Int] = [:]
    var leaderOfTerm: [Term: NodeID] = [:]
    /// Every entry applied anywhere, by index: all nodes must apply the same.
    var appliedEntries: [LogIndex: Entry] = [:]
    var proposals = 0
    var violation: String?

    static let networkMax = 400

    var ids: [NodeID] { nodes.keys.sorted() }

    init(seed: UInt64, nodeCount: Int, faults: RaftFaults = RaftFaults()) {
        rng = TestRandom(seed: seed &* 0x2545_F491_4F6C_DD1D)
        let all = (1...UInt64(nodeCount)).map { voter($0) }
        // Five-node clusters start with three voters and two learners, to exercise promotion.
        let voters = nodeCount == 5 ? Array(all.prefix(3)) : all
        let learners = nodeCount == 5 ? Array(all.suffix(2)) : []
        for member in all {
            let config = RaftConfig(
                id: member.id, directory: member.directory, electionTicks: 10, heartbeatTicks: 2,
                // Every third seed runs without pre-vote and every fourth without check-quorum.
                preVote: seed % 3 != 0, checkQuorum: seed % 4 != 0,
                inflightAppendsMax: 4, entriesPerAppendMax: 3, seed: seed, faults: faults)
            configs[member.id] = config
            disks[member.id] = .bootstrap(voters: voters, learners: learners)
            nodes[member.id] = RaftNode(config: config, state: disks[member.id]!)
            applied[member.id] = .zero
        }
    }

    mutating func randomEvent() {
        let id = ids[rng.below(ids.count)]
        switch rng.below(100) {
        case 0..<45: for _ in 0..<3 { deliverRandomMessage() }
        case 45..<57: nodes[id]!.tick()
        case 57..<77: processReady(id)
        case 77..<87:
            proposals += 1
            let target = ids.filter { nodes[$0]!.role == .leader }.last ?? id
            _ = try? nodes[target]!.propose(Array("p\(proposals)".utf8))
        case 87..<88: restart(id)
        case 88..<90: randomPartition()
        case 90..<93: groups = [:]
        case 93..<95: randomMembershipChange(at: id)
        case 95..<97: compact(id)
        case 97..<98: _ = try? nodes[id]!.transferLeadership(to: ids[rng.below(ids.count)])
        default: nodes[id]!.campaign()
        }
        checkLeaders()
    }

    mutating func deliverRandomMessage() {
        guard !network.isEmpty else { return }
        let position = rng.below(network.count)
        let message = network[position]
        if !rng.chance(5) { network.remove(at: position) }  // otherwise delivered again later: a duplicate
        guard !rng.chance(10), groups[message.from, default: 0] == groups[message.to, default: 0] else { return }
        nodes[message.to]?.step(message)
    }

    mutating func processReady(_ id: NodeID) {
        guard let ready = nodes[id]!.ready() else { return }
        var disk = disks[id]!
        if let snapshot = ready.snapshot {
            disk.snapshot = snapshot
            disk.entries = []
        }
        if let first = ready.entries.first {
            disk.entries.removeAll { $0.index >= first.index }
            disk.entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState { disk.hardState = hardState }
        disks[id] = disk
        network.append(contentsOf: ready.messages)
        if network.count > RandomCluster.networkMax { network.removeFirst(network.count - RandomCluster.networkMax) }
        if let snapshot = ready.snapshot { applied[id] = max(applied[id]!, snapshot.metadata.index) }
        for entry in ready.committedEntries { apply(entry, on: id) }
        nodes[id]!.advance(ready)
    }

    mutating func apply(_ entry: Entry, on id: NodeID) {
        guard entry.index == applied[id]!.next else {
            violation = "node \(id) applied \(entry.index) after \(applied[id]!)"
            return
        }
        applied[id] = entry.index
        if let earlier = appliedEntries[entry.index], earlier != entry {
            violation = "state machine safety: index \(entry.index) applied as \(earlier) and as \(entry) (node \(id))"
        }
        appliedEntries[entry.index] = entry
    }

    /// A crash loses what was not persisted; the state machine restarts from the snapshot.
    mutating func restart(_ id: NodeID) {
        nodes[id] = RaftNode(config: configs[id]!, state: disks[id]!)
        applied[id] = disks[id]!.snapshot.metadata.index
    }

    mutating func randomPartition() {
        groups = [:]
        for id in ids { groups[id] = rng.below(2) }
    }

    mutating func randomMembershipChange(at id: NodeID) {
        let target = ids[rng.below(ids.count)]
        let member = Voter(id: target, directory: configs[target]!.directory)
        let changes: [MembershipChange] = [
            .addVoter(member), .removeVoter(target), .addLearner(member), .removeLearner(target), .promoteLearner(target),
        ]
        _ = try? nodes[id]!.proposeMembershipChange(changes[rng.below(changes.count)])
    }

    mutating func compact(_ id: NodeID) {
        let through = applied[id]!
        guard let snapshot = try? nodes[id]!.compact(through: through, snapshotData: []) else { return }
        var disk = disks[id]!
        disk.snapshot = snapshot
        disk.entries.removeAll { $0.index <= through }
        disks[id] = disk
    }

    /// Log matching: two logs holding an entry with the same index and term are identical up to it; and
    /// every committed entry still in a log is the one applied at that index.
    mutating func checkLogs() {
        for (position, a) in ids.enumerated() {
            let logA = nodes[a]!
            for index in logA.firstIndex.rawValue..<(logA.lastIndex.rawValue + 1) {
                guard let entry = logA.entry(at: LogIndex(index)) else { continue }
                if entry.index <= logA.commitIndex, let applied = appliedEntries[entry.index], applied != entry {
                    violation = "node \(a) holds \(entry) at committed index where \(applied) was applied"
                }
            }
            for b in ids[(position + 1)...] {
                let logB = nodes[b]!
                let low = max(logA.firstIndex, logB.firstIndex).rawValue
                let high = min(logA.lastIndex, logB.lastIndex).rawValue
                guard low <= high else { continue }
                var matchedAbove = false
                for index in stride(from: high, through: low, by: -1) {
                    let entryA = logA.entry(at: LogIndex(index))!
                    let entryB = logB.entry(at: LogIndex(index))!
                    if entryA.term == entryB.term { matchedAbove = true }
                    if matchedAbove && entryA != entryB {
                        violation = "log matching: nodes \(a) and \(b) differ at \(index) below a common entry"
                        return
                    }
                }
            }
        }
    }

    /// Election safety: at most one leader per term, over the whole history.
    mutating func checkLeaders() {
        for id in ids where nodes[id]!.role == .leader {
            let term = nodes[id]!.term
            if let other = leaderOfTerm[term], other != id {
                violation = "election safety: \(other) and \(id) both led term \(term)"
            }
            leaderOfTerm[term] = id
        }
    }

    /// Heals the network and runs every node until a leader commits a fresh proposal everywhere it is a member.
    mutating func healAndSettle() {
        groups = [:]
        var marker: [UInt8]? = nil
        for round in 0..<3000 {
            for id in ids {
                nodes[id]!.tick()
                processReady(id)
            }
            while !network.isEmpty {
                let message = network.removeFirst()
                nodes[message.to]?.step(message)
            }
            checkLeaders()
            guard violation == nil else { return }
            if let leader = ids.first(where: { nodes[$0]!.role == .leader }) {
                if marker == nil, round > 50 {
                    marker = Array("marker".utf8)
                    if (try? nodes[leader]!.propose(marker!)) == nil { marker = nil }
                }
                if let marker, appliedEntries.values.contains(where: { $0.data == marker }) {
                    let members = nodes[leader]!.membership
                    let lagging = (members.voters + members.learners).filter { member in
                        !appliedEntries.contains { index, entry in entry.data == marker && applied[member.id]! >= index }
                    }
                    if lagging.isEmpty { return }
                }
            }
        }
        violation = "no progress after healing: roles \(ids.map { "\($0):\(nodes[$0]!.role)/\(nodes[$0]!.term)" })"
    }
}
