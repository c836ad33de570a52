extension RaftNode {
    // MARK: Proposals

    /// Appends `data` to the leader's log and returns its index; committed once a majority holds it.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(ProposalError) -> LogIndex {
        try checkCanPropose()
        let entry = Entry(term: term, index: log.lastIndex.next, kind: .normal, data: data)
        appendAsLeader([entry])
        return entry.index
    }

    func checkCanPropose() throws(ProposalError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard transferTarget == nil else { throw .proposalDropped }
        guard log.lastIndex.rawValue - log.committed.rawValue < UInt64(config.uncommittedEntriesMax) else {
            throw .proposalDropped
        }
    }

    /// Appends entries of this term to the leader's log and sends them.
    mutating func appendAsLeader(_ entries: [Entry]) {
        precondition(role == .leader, "only the leader appends its own entries")
        for entry in entries { precondition(entry.term == term, "a leader appends only entries of its term") }
        log.append(entries)
        for entry in entries where entry.kind == .configChange {
            guard let newMembership = Membership(decoding: entry.data) else {
                preconditionFailure("a configuration entry the leader wrote does not decode")
            }
            applyMembership(newMembership, at: entry.index)
        }
        // A single voter commits on its own; otherwise this is a no-op until followers acknowledge.
        if maybeCommit() { stepDownIfRemoved() }
        broadcastAppend()
    }

    // MARK: Leader: sending

    mutating func broadcastAppend() {
        for id in progress.keys.sorted() { sendAppend(to: id, evenIfEmpty: true) }
    }

    mutating func broadcastHeartbeat() {
        for id in progress.keys.sorted() {
            let commit = min(progress[id]!.match, log.committed)
            send(to: id, .heartbeat(commit: commit))
        }
    }

    /// Sends the follower what it lacks (entries, or the snapshot when they were compacted away).
    /// Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to id: NodeID, evenIfEmpty: Bool) -> Bool {
        guard var pr = progress[id], !pr.isPaused(inflightMax: config.inflightAppendsMax) else { return false }
        defer { progress[id] = pr }
        let prevIndex = pr.next.previous
        guard let prevTerm = log.term(at: prevIndex),
            let entries = log.entries(
                from: pr.next, countMax: config.entriesPerAppendMax, bytesMax: config.appendBytesMax)
        else {
            // The follower needs entries we compacted: send the snapshot instead.
            pr.becomeSnapshot(log.snapshotIndex)
            send(to: id, .installSnapshot(log.snapshot))
            return true
        }
        if entries.isEmpty && !evenIfEmpty { return false }
        send(to: id, .append(prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, commit: log.committed))
        pr.sent(through: entries.last?.index ?? prevIndex, entryCount: entries.count)
        return true
    }

    // MARK: Leader: answers

    mutating func handleAppendResponse(_ message: Message, outcome: AppendOutcome) {
        guard var pr = progress[message.from], pr.directory == message.fromDirectory else { return }
        pr.recentActive = true
        switch outcome {
        case .accepted(let matchIndex):
            let wasPaused = pr.isPaused(inflightMax: config.inflightAppendsMax)
            guard pr.acknowledge(matchIndex) else {
                progress[message.from] = pr
                return
            }
            switch pr.state {
            case .probe:
                pr.becomeReplicate()
            case .snapshot(let pending) where pr.match >= pending:
                pr.becomeProbe()
                pr.becomeReplicate()
            default:
                break
            }
            progress[message.from] = pr
            if maybeCommit() {
                stepDownIfRemoved()
                guard role == .leader else { return }
                broadcastAppend()
            } else if wasPaused {
                // Even with nothing new to send, tell the follower the commit index it may have missed.
                sendAppend(to: message.from, evenIfEmpty: true)
            }
            // Stream what remains, up to the inflight limit.
            var sends = 0
            while sends < config.inflightAppendsMax && sendAppend(to: message.from, evenIfEmpty: false) { sends += 1 }
            if message.from == transferTarget && progress[message.from]!.match == log.lastIndex {
                send(to: message.from, .timeoutNow)
            }
        case .rejected(let rejectedIndex, let hintIndex, let hintTerm):
            // Skip past the follower's entries of terms we do not have at those indexes.
            var next = hintIndex
            if hintTerm > .zero { next = log.lastIndex(atOrBelow: hintIndex, withTermAtMost: hintTerm).0 }
            if pr.rejected(rejectedIndex, hint: next) {
                if pr.state == .replicate { pr.becomeProbe() }
                progress[message.from] = pr
                sendAppend(to: message.from, evenIfEmpty: true)
            } else {
                progress[message.from] = pr
            }
        }
    }

    mutating func handleHeartbeatResponse(_ message: Message) {
        guard var pr = progress[message.from], pr.directory == message.fromDirectory else { return }
        pr.recentActive = true
        pr.probeSent = false
        switch pr.state {
        case .replicate where pr.inflights.count >= config.inflightAppendsMax:
            // An append may have been lost: let one more through so the follower's rejection repairs it.
            pr.inflights.removeFirst()
        case .snapshot where pr.snapshotElapsedTicks >= config.electionTicks:
            // The snapshot (or its acknowledgement) was probably lost: probe again, resending if needed.
            pr.becomeProbe()
        default:
            break
        }
        progress[message.from] = pr
        if pr.match < log.lastIndex { sendAppend(to: message.from, evenIfEmpty: true) }
        if message.from == transferTarget && pr.match == log.lastIndex { send(to: message.from, .timeoutNow) }
    }

    /// Advances the commit index to the highest index a majority of voters holds, but only by counting
    /// replicas of an entry of the current term (Raft §5.4.2, Figure 8). Returns whether it advanced.
    mutating func maybeCommit() -> Bool {
        var matches: [LogIndex] = []
        for voter in membership.voters {
            if voter == selfVoter {
                matches.append(log.lastIndex)
            } else if let pr = progress[voter.id], pr.directory == voter.directory {
                matches.append(pr.match)
            } else {
                matches.append(.zero)
            }
        }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let candidate = matches[quorumSize - 1]
        guard candidate > log.committed else { return false }
        guard config.faults.commitByCountingOlderTermEntries || log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        return true
    }

    /// A leader that committed its own removal hands over (Raft thesis §4.2.2): it stops leading and,
    /// no longer a voter, never campaigns again.
    mutating func stepDownIfRemoved() {
        guard role == .leader, !isVoter, log.committed >= membershipIndex else { return }
        becomeFollower(term: term, leader: nil)
    }

    // MARK: Follower

    mutating func handleAppend(
        _ message: Message, prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], commit: LogIndex
    ) {
        if prevLogIndex < log.committed {
            send(to: message.from, .appendResponse(.accepted(matchIndex: log.committed)))
            return
        }
        let matches =
            log.matchTerm(prevLogIndex, prevLogTerm)
            || (config.faults.skipLogMatchingCheck && prevLogIndex <= log.lastIndex)
        if matches, appendFromLeader(entries) {
            let lastNew = prevLogIndex.advanced(by: UInt64(entries.count))
            log.commit(to: min(commit, lastNew))
            send(to: message.from, .appendResponse(.accepted(matchIndex: lastNew)))
            return
        }
        let (hintIndex, hintTerm) = log.lastIndex(atOrBelow: prevLogIndex, withTermAtMost: prevLogTerm)
        send(to: message.from, .appendResponse(.rejected(rejectedIndex: prevLogIndex, hintIndex: hintIndex, hintTerm: hintTerm)))
    }

    /// Appends what is new in `entries`, replacing a conflicting suffix. False when that suffix would reach
    /// committed entries, which only a broken leader (a fault mode) asks for.
    private mutating func appendFromLeader(_ entries: [Entry]) -> Bool {
        guard let conflict = log.firstConflict(in: entries) else { return true }
        if conflict <= log.committed {
            precondition(config.faults != .none, "leader asked to overwrite committed entry \(conflict)")
            return false
        }
        let newEntries = Array(entries[Int(conflict.rawValue - entries[0].index.rawValue)...])
        let truncates = conflict <= log.lastIndex
        log.append(newEntries)
        if truncates {
            // The replaced suffix may have held a configuration entry: fall back to the one still in the log.
            let (restored, index) = log.membership(atOrBelow: log.lastIndex)
            membership = restored
            membershipIndex = index
        }
        for entry in newEntries where entry.kind == .configChange {
            if let newMembership = Membership(decoding: entry.data) { applyMembership(newMembership, at: entry.index) }
        }
        return true
    }

    mutating func handleHeartbeat(_ message: Message, commit: LogIndex) {
        log.commit(to: min(commit, log.lastIndex))
        send(to: message.from, .heartbeatResponse)
    }

    mutating func handleInstallSnapshot(_ message: Message, snapshot: Snapshot) {
        let metadata = snapshot.metadata
        if metadata.index <= log.committed {
            send(to: message.from, .appendResponse(.accepted(matchIndex: log.committed)))
            return
        }
        if log.matchTerm(metadata.index, metadata.term) {
            // We already hold that prefix: just learn that it is committed.
            log.commit(to: metadata.index)
            send(to: message.from, .appendResponse(.accepted(matchIndex: log.committed)))
            return
        }
        log.restore(snapshot)
        membership = metadata.membership
        membershipIndex = metadata.index
        send(to: message.from, .appendResponse(.accepted(matchIndex: log.lastIndex)))
    }
}
