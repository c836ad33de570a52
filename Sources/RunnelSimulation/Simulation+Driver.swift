import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

extension Simulation {
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
            replaceFailedDisk(node, error)
            return false
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
        do { try wal.sync() } catch {
            replaceFailedDisk(node, error)
            return
        }
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
            replaceFailedDisk(node, error)
        }
    }

    func send(_ messages: [Message]) {
        for message in messages {
            trace.record(0x50, message.from.rawValue, message.to.rawValue, message.term.rawValue, messageTag(message.kind),
                text: "@\(now) send \(message)")
            network.send(message, now: now, random: &random)
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
