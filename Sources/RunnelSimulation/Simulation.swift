import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

public struct SimulationOptions: Hashable, Sendable {
    public var seed: UInt64
    public var nodeCount: Int
    public var variant: Variant
    /// Faults are injected during this many (nominal) ticks; then everything is healed.
    public var faultPhaseTicks: Int
    /// After healing, a leader must be elected and a fresh proposal committed within this many ticks.
    public var livenessTicksMax: Int
    /// Virtual time units per nominal tick; delays, drift and fsync latency are in units.
    public var unitsPerTick: Int
    /// A node snapshots its state machine once it applied this many entries past its snapshot.
    public var compactEveryEntries: Int
    /// Keep rendered recent events for the report (slower; for replaying a failing seed).
    public var keepsEventText: Bool

    public init(
        seed: UInt64, nodeCount: Int = 3, variant: Variant = .correct, faultPhaseTicks: Int = 400,
        livenessTicksMax: Int = 400, unitsPerTick: Int = 10, compactEveryEntries: Int = 40, keepsEventText: Bool = false
    ) {
        precondition(nodeCount >= 1 && nodeCount <= 9)
        self.seed = seed
        self.nodeCount = nodeCount
        self.variant = variant
        self.faultPhaseTicks = faultPhaseTicks
        self.livenessTicksMax = livenessTicksMax
        self.unitsPerTick = unitsPerTick
        self.compactEveryEntries = compactEveryEntries
        self.keepsEventText = keepsEventText
    }
}

public struct SimulationResult: Sendable {
    public var options: SimulationOptions
    public var plan: FaultPlan
    /// Empty when every invariant held; the run stops at the first step that breaks one.
    public var violations: [Violation]
    public var traceHash: UInt64
    public var eventCount: Int
    public var unitsRun: Int
    /// The highest commit index any node reached.
    public var commitIndexMax: LogIndex
    public var recentEvents: [String]

    public var passed: Bool { violations.isEmpty }

    /// What to print for a failing seed: the violations, how to replay, the plan, the last events.
    public var report: String {
        var lines = [
            "seed \(options.seed) (\(options.nodeCount) nodes, variant \(options.variant.rawValue)): "
                + (passed ? "ok" : "\(violations.count) violation(s)"),
        ]
        lines += violations.map { "  \($0)" }
        lines.append(
            "  replay: runnel-sim --seeds 1 --start \(options.seed) --nodes \(options.nodeCount) --variant \(options.variant.rawValue) --verbose")
        lines.append("  trace hash \(String(traceHash, radix: 16)) after \(eventCount) events, \(unitsRun) units")
        lines += plan.description.split(separator: "\n").map { "  " + $0 }
        if !recentEvents.isEmpty {
            lines.append("  last events:")
            lines += recentEvents.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}

/// A deterministic cluster of `RaftNode`s in one process: one seeded generator drives the network,
/// fsync latency, client proposals and tears; a plan drawn from the same seed drives the faults.
/// Same seed, same trace.
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
        if checker.violations.isEmpty { checkLiveness() }
        return SimulationResult(
            options: options, plan: plan, violations: checker.violations, traceHash: trace.hash,
            eventCount: trace.eventCount, unitsRun: now, commitIndexMax: commitIndexMax, recentEvents: trace.recentEvents)
    }

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

    // MARK: The driver: Ready handling as the contract says

    /// Persist, fsync, and only then send, apply and advance (or, broken, send before the fsync).
    func process(_ node: SimulatedNode) {
        for _ in 0..<8 {
            if let inflight = node.inflight {
                guard now >= inflight.syncAtUnits else { return }
                complete(node, inflight)
                if !checker.violations.isEmpty || !node.isUp { return }
            }
            guard let ready = node.raft!.ready() else { return }
            if let soft = ready.softState {
                node.role = soft.role
                if soft.role == .leader {
                    let raft = node.raft!
                    checker.observeLeader(node.id, term: raft.term)
                    checker.observeNewLeader(node.id, term: raft.term, snapshotIndex: raft.snapshotMetadata.index) { raft.entry(at: $0) }
                }
            }
            guard persist(node, ready) else { return }
            var sent = false
            if options.variant.driverFaults.sendBeforeFsync {
                send(ready.messages)
                sent = true
                if crashIfArmed(node, ready) { return }
            }
            let latency = Int(random.next() % UInt64(plan.fsyncLatencyUnitsMax + 1))
            node.inflight = InflightReady(ready: ready, syncAtUnits: now + latency, sent: sent)
        }
    }

    /// Writes the Ready to the WAL and checks what was written; false on a contract violation.
    func persist(_ node: SimulatedNode, _ ready: Ready) -> Bool {
        let wal = node.wal!
        if let first = ready.entries.first, first.index <= wal.lastIndex {
            let commit = wal.hardState.commit
            var index = first.index
            while index <= min(wal.lastIndex, commit) {
                if let old = wal.entry(at: index), let new = ready.entries.first(where: { $0.index == index }), old != new {
                    checker.observeOverwrite(node.id, index: index, commit: commit)
                    return false
                }
                index = index.next
            }
        }
        do {
            try wal.save(ready)
        } catch .nonContiguousEntries(let expected, let got) {
            checker.fail(.readyContract, "node \(node.id) was handed entries from \(got) to persist; the log ends before \(expected)")
            return false
        } catch {
            preconditionFailure("simulated WAL write failed: \(error)")
        }
        if let snapshot = ready.snapshot { checker.observeSnapshot(node.id, snapshot.metadata) }
        if let first = ready.entries.first {
            let previousTerm = wal.term(at: first.index.previous) ?? .zero
            checker.observeAppended(node.id, entries: ready.entries, previousTerm: previousTerm)
        }
        if let hard = ready.hardState { observeCommit(node, through: hard.commit) }
        trace.record(0xE0, node.id.rawValue, wal.lastIndex.rawValue, wal.hardState.commit.rawValue, wal.hardState.term.rawValue,
            text: "@\(now) node \(node.id) persists through \(wal.lastIndex), \(wal.hardState)")
        return true
    }

    func observeCommit(_ node: SimulatedNode, through commit: LogIndex) {
        guard let wal = node.wal, commit > node.committedChecked else { return }
        var index = node.committedChecked.next
        while index <= commit {
            if let entry = wal.entry(at: index) { checker.observeCommitted(node.id, entry) }
            index = index.next
        }
        node.committedChecked = commit
        commitIndexMax = max(commitIndexMax, commit)
    }

    func complete(_ node: SimulatedNode, _ inflight: InflightReady) {
        let wal = node.wal!
        do { try wal.sync() } catch { preconditionFailure("simulated fsync failed: \(error)") }
        node.inflight = nil
        checker.observeDurableCommit(
            node.member, max(wal.durableHardState.commit, wal.snapshotMetadata.index), context: "sync")
        let ready = inflight.ready
        if !inflight.sent {
            send(ready.messages)
            if crashIfArmed(node, ready) { return }
        }
        if let snapshot = ready.snapshot {
            node.machine = StateMachine(snapshot: snapshot)
            checker.observeApplied(node.id, index: node.machine.index, hash: node.machine.hash)
        }
        for entry in ready.committedEntries {
            guard entry.index == node.machine.index.next else {
                checker.fail(.stateMachineSafety, "node \(node.id) applies \(entry.index) after \(node.machine.index)")
                return
            }
            checker.observeCommitted(node.id, entry)
            node.machine.apply(entry)
            checker.observeApplied(node.id, index: entry.index, hash: node.machine.hash)
        }
        node.raft!.advance(ready)
        compactIfDue(node)
    }

    func compactIfDue(_ node: SimulatedNode) {
        let raft = node.raft!
        guard node.machine.index.rawValue >= raft.snapshotMetadata.index.rawValue + UInt64(options.compactEveryEntries),
            node.machine.index <= raft.appliedIndex
        else { return }
        do {
            let snapshot = try node.raft!.compact(through: node.machine.index, snapshotData: node.machine.snapshotData)
            try node.wal!.compact(to: snapshot)
            trace.record(0xC0, node.id.rawValue, snapshot.metadata.index.rawValue, text: "@\(now) node \(node.id) compacts through \(snapshot.metadata.index)")
        } catch let error as CompactionError {
            _ = error  // Not applied or persisted yet: try again after a later Ready.
        } catch {
            preconditionFailure("simulated compaction failed: \(error)")
        }
    }

    func send(_ messages: [Message]) {
        for message in messages {
            trace.record(0x50, message.from.rawValue, message.to.rawValue, message.term.rawValue, messageTag(message.kind),
                text: "@\(now) send \(message)")
            network.send(message, now: now, random: &random)
        }
    }

    // MARK: Node lifecycle

    func start(_ node: SimulatedNode) {
        let wal: RaftWAL
        do {
            wal = try RaftWAL.open(
                fileSystem: node.fileSystem, path: node.path, nodeID: node.id,
                options: RaftWALOptions(segmentBytesMax: Self.segmentBytesMax))
        } catch {
            preconditionFailure("node \(node.id) cannot recover its WAL: \(error)")
        }
        var state = wal.recovered
        let durable = max(state.hardState.commit, state.snapshot.metadata.index)
        checker.observeDurableCommit(node.member, durable, context: "restart")
        checker.observeSnapshot(node.id, state.snapshot.metadata)
        node.committedChecked = state.snapshot.metadata.index
        node.wal = wal
        observeCommit(node, through: min(state.hardState.commit, wal.lastIndex))
        if options.variant.driverFaults.forgetVoteOnRestart { state.hardState.vote = nil }
        node.incarnation += 1
        let config = RaftConfig(
            id: node.id, directory: node.directory, electionTicks: 10, heartbeatTicks: 1, preVote: plan.preVote,
            checkQuorum: true, maxInflightAppends: 8, maxEntriesPerAppend: plan.maxEntriesPerAppend, maxUncommittedEntries: 64,
            seed: options.seed &+ UInt64(node.incarnation) &* 0x9E37_79B9, faults: options.variant.raftFaults)
        node.bringUp(RaftNode(config: config, state: state))
        node.machine = StateMachine(snapshot: state.snapshot)
        node.inflight = nil
        node.nextTickAtUnits = now + node.tickPeriodUnits
    }

    /// Carries out an armed `crashAfterVotes` once a Ready that grants a vote has sent its messages.
    func crashIfArmed(_ node: SimulatedNode, _ ready: Ready) -> Bool {
        guard let restartUnits = node.crashAfterVoteRestartUnits, now < node.crashAfterVoteUntilUnits,
            ready.messages.contains(where: { if case .voteResponse(granted: true) = $0.kind { return true } else { return false } })
        else { return false }
        trace.record(0xF2, node.id.rawValue, text: "@\(now) crash \(node.id) right after its vote left")
        crash(node, torn: false)
        node.restartAtUnits = now + restartUnits
        return true
    }

    func crash(_ node: SimulatedNode, torn: Bool) {
        guard node.isUp else { return }
        node.fileSystem.crash(torn ? .seeded(random.next()) : .dropUnsynced)
        node.bringDown()
    }

    func restart(_ node: SimulatedNode) {
        guard !node.isUp else { return }
        node.restartAtUnits = nil
        if node.wiped {
            node.wiped = false
            node.directory = DirectoryID.random(using: &random)
            do {
                try RaftWAL.format(
                    fileSystem: node.fileSystem, path: node.path,
                    identity: DirectoryIdentity(nodeID: node.id, directoryID: node.directory), initialState: .empty)
            } catch {
                preconditionFailure("formatting a wiped disk failed: \(error)")
            }
        }
        start(node)
        trace.record(0xF1, node.id.rawValue, node.directory.low, text: "@\(now) restart \(node.id) as \(node.member)")
    }

    func apply(_ fault: Fault) {
        trace.record(0xF0, UInt64(scheduleNext), text: "@\(now) fault \(fault)")
        switch fault {
        case .crash(let id, let torn): crash(node(id), torn: torn)
        case .restart(let id): restart(node(id))
        case .wipe(let id):
            let target = node(id)
            guard target.isUp else { return }
            crash(target, torn: false)
            // Losing a disk while the configuration is short of a member could lose the quorum for good,
            // which no protocol survives: then the wipe is only a crash.
            guard configurationIsFull() else { return }
            target.fileSystem.wipe()
            target.wiped = true
        case .partition(let partition):
            network.blocked = partition.blockedLinks(nodes: nodeIDs)
        case .heal:
            network.blocked = []
        case .isolateLeader:
            guard let leader = currentLeader() else { return }
            network.blocked = Partition.isolate(leader.id).blockedLinks(nodes: nodeIDs)
        case .crashLeader(let restartUnits):
            guard let leader = currentLeader() else { return }
            crash(leader, torn: false)
            leader.restartAtUnits = now + restartUnits
        case .crashAfterVotes(let id, let windowUnits, let restartUnits):
            node(id).crashAfterVoteRestartUnits = restartUnits
            node(id).crashAfterVoteUntilUnits = now + windowUnits
        case .removeVoter(let id):
            guard configurationIsFull(), let leader = currentLeader(), leader.id != id else { return }
            if (try? leader.raft!.proposeMembershipChange(.removeVoter(id))) != nil {
                node(id).demotedUntilUnits = now + 30 * options.unitsPerTick
            }
        }
    }

    func node(_ id: NodeID) -> SimulatedNode { nodes[Int(id.rawValue) - 1] }

    /// Whether the leader's configuration has every node, with its current directory, as a voter.
    func configurationIsFull() -> Bool {
        // A wiped node still down will return under a new directory: its old voter entry is already lost.
        guard !nodes.contains(where: \.wiped), let membership = currentLeader()?.raft?.membership else { return false }
        return membership.learners.isEmpty && Set(membership.voters) == Set(nodes.map(\.member))
    }

    // MARK: Clients and the membership manager

    func proposeFromClient() {
        let leaders = nodes.filter { $0.isUp && $0.role == .leader }
        guard !leaders.isEmpty else { return }
        let target = leaders[Int(random.next() % UInt64(leaders.count))]
        proposalCounter += 1
        let data = Array("c\(proposalCounter)".utf8)
        if let index = try? target.raft!.propose(data) {
            trace.record(0x90, target.id.rawValue, index.rawValue, text: "@\(now) propose c\(proposalCounter) at \(index) on \(target.id)")
        }
    }

    /// Brings the configuration back to every node with its current directory: a voter whose disk was
    /// wiped is removed, re-added as a learner and promoted once it has caught up.
    func manageMembership() {
        guard let leader = currentLeader(), let raft = leader.raft, raft.transferTarget == nil else { return }
        let membership = raft.membership
        for node in nodes {
            let change: MembershipChange?
            if let voter = membership.voters.first(where: { $0.id == node.id }) {
                change = voter.directory != node.directory ? .removeVoter(node.id) : nil
            } else if let learner = membership.learners.first(where: { $0.id == node.id }) {
                if learner.directory != node.directory {
                    change = .removeLearner(node.id)
                } else if let status = raft.followerStatus[node.id], status.match >= raft.commitIndex {
                    change = .promoteLearner(node.id)
                } else {
                    change = nil
                }
            } else {
                change = now >= node.demotedUntilUnits ? .addLearner(node.member) : nil
            }
            guard let change else { continue }
            if (try? leader.raft!.proposeMembershipChange(change)) != nil {
                trace.record(0x70, leader.id.rawValue, node.id.rawValue, text: "@\(now) leader \(leader.id) proposes \(change)")
            }
            return
        }
    }
}

/// A small number per message kind (and its main field) for the trace hash.
func messageTag(_ kind: MessageKind) -> UInt64 {
    switch kind {
    case .preVote(let index, _): return 1 | index.rawValue << 8
    case .preVoteResponse(let granted): return 2 | (granted ? 256 : 0)
    case .vote(let index, _, _): return 3 | index.rawValue << 8
    case .voteResponse(let granted): return 4 | (granted ? 256 : 0)
    case .append(let prev, _, let entries, let commit): return 5 | prev.rawValue << 8 ^ UInt64(entries.count) << 40 ^ commit.rawValue << 20
    case .appendResponse(.accepted(let match)): return 6 | match.rawValue << 8
    case .appendResponse(.rejected(let index, _, _)): return 7 | index.rawValue << 8
    case .heartbeat(let commit): return 8 | commit.rawValue << 8
    case .heartbeatResponse: return 9
    case .installSnapshot(let snapshot): return 10 | snapshot.metadata.index.rawValue << 8
    case .timeoutNow: return 11
    }
}
