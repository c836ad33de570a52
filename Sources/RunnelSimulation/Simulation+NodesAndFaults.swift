import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

extension Simulation {
    // MARK: Node lifecycle

    func start(_ node: SimulatedNode) {
        let wal: RaftWAL
        do {
            wal = try RaftWAL.open(
                fileSystem: node.fileSystem, path: node.path, nodeID: node.id,
                options: RaftWALOptions(segmentBytesMax: Self.segmentBytesMax))
        } catch .storage(.syncFailed(let path, let errno)) {
            // Recovery syncs what it repairs; on a failing disk that fails too, and the disk is replaced.
            replaceFailedDisk(node, StorageError.syncFailed(path: path, errno: errno))
            return
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
            checkQuorum: true, inflightAppendsMax: 8, entriesPerAppendMax: plan.entriesPerAppendMax, uncommittedEntriesMax: 64,
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

    /// A failed fsync is final: the node stops at once, its disk is replaced, and it returns with a new
    /// directory id after a while.
    func replaceFailedDisk(_ node: SimulatedNode, _ error: any Error) {
        trace.record(0xF3, node.id.rawValue, text: "@\(now) node \(node.id) stops: \(error)")
        crash(node, torn: false)
        node.fileSystem.wipe()
        node.wiped = true
        node.diskFailing = false
        node.restartAtUnits = now + 10 * options.unitsPerTick
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
        if node.isUp { trace.record(0xF1, node.id.rawValue, node.directory.low, text: "@\(now) restart \(node.id) as \(node.member)") }
    }

    func apply(_ fault: Fault) {
        trace.record(0xF0, UInt64(scheduleNext), text: "@\(now) fault \(fault)")
        switch fault {
        case .crash(let id, let torn): crash(node(id), torn: torn)
        case .restart(let id): restart(node(id))
        case .wipe(let id):
            let target = node(id)
            guard target.isUp else { return }
            // Losing a disk while the configuration is short of a member could lose the quorum for good,
            // which no protocol survives: then the wipe is only a crash.
            let survivable = configurationIsFull()
            crash(target, torn: false)
            guard survivable else { return }
            target.fileSystem.wipe()
            target.wiped = true
        case .failDisk(let id):
            let target = node(id)
            // Like a wipe, losing a disk is survivable only with the configuration complete.
            guard target.isUp, configurationIsFull() else { return }
            target.fileSystem.failSyncs(underPath: target.path)
            target.diskFailing = true
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

    /// Whether every node is up, healthy and holds, as the latest configuration in its log (committed or
    /// not), all nodes with their current directories as voters. Only then may a disk be lost or a voter
    /// removed: a pending change elsewhere plus a lost disk can leave no electable quorum, which no protocol
    /// survives (the operator's rule: replace disks only in a healthy cluster).
    func configurationIsFull() -> Bool {
        guard !nodes.contains(where: { $0.wiped || $0.diskFailing || !$0.isUp }) else { return false }
        let members = Set(nodes.map(\.member))
        return nodes.allSatisfy { node in
            let membership = node.raft!.membership
            return membership.learners.isEmpty && Set(membership.voters) == members
        }
    }
}
