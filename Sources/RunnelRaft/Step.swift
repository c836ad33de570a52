extension RaftNode {
    /// Feeds one message from a peer. Messages for another node are ignored.
    public mutating func step(_ message: Message) {
        guard message.to == config.id, message.from != config.id else { return }
        if message.term > term {
            guard stepHigherTerm(message) else { return }
        } else if message.term < term {
            stepLowerTerm(message)
            return
        }
        switch message.kind {
        case .preVote(let lastLogIndex, let lastLogTerm):
            handleVoteRequest(message, lastLogIndex: lastLogIndex, lastLogTerm: lastLogTerm, preVote: true)
        case .vote(let lastLogIndex, let lastLogTerm, _):
            handleVoteRequest(message, lastLogIndex: lastLogIndex, lastLogTerm: lastLogTerm, preVote: false)
        case .preVoteResponse(let granted):
            // Grants name the term asked about; refusals name the voter's term, which may equal ours.
            if role == .preCandidate && (message.term == term.next || (!granted && message.term == term)) {
                handleVoteResponse(message, granted: granted)
            }
        case .voteResponse(let granted):
            if role == .candidate { handleVoteResponse(message, granted: granted) }
        case .append(let prevLogIndex, let prevLogTerm, let entries, let commit):
            guard followLeader(message) else { return }
            handleAppend(message, prevLogIndex: prevLogIndex, prevLogTerm: prevLogTerm, entries: entries, commit: commit)
        case .heartbeat(let commit):
            guard followLeader(message) else { return }
            handleHeartbeat(message, commit: commit)
        case .installSnapshot(let snapshot):
            guard followLeader(message) else { return }
            handleInstallSnapshot(message, snapshot: snapshot)
        case .appendResponse(let outcome):
            if role == .leader { handleAppendResponse(message, outcome: outcome) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(message) }
        case .timeoutNow:
            // Only a voter of the configuration it knows takes over, and without pre-vote: its leader asked.
            if role != .leader && canCampaign { campaign(preVote: false, transfer: true) }
        }
    }

    /// A message from a higher term. Returns false when the message is to be dropped.
    private mutating func stepHigherTerm(_ message: Message) -> Bool {
        switch message.kind {
        case .preVote, .vote:
            var transfer = false
            if case .vote(_, _, let isTransfer) = message.kind { transfer = isTransfer }
            // Leader stickiness: while we hear from a leader, a disruptive candidate (say, one returning from
            // a partition) cannot depose it. The leader itself is "hearing" from itself.
            let inLease = config.checkQuorum && leader != nil && electionElapsedTicks < config.electionTicks
            if inLease && !transfer { return false }
            if case .vote = message.kind { becomeFollower(term: message.term, leader: nil) }
            // A pre-vote never changes our term: that is the whole point of pre-voting.
            return true
        case .preVoteResponse(let granted):
            // Granted pre-votes carry the term the pre-candidate asked about; a refusal from a higher term
            // means we are behind.
            if granted { return true }
            becomeFollower(term: message.term, leader: nil)
            return true
        case .append, .heartbeat, .installSnapshot:
            becomeFollower(term: message.term, leader: message.from)
            return true
        case .voteResponse, .appendResponse, .heartbeatResponse, .timeoutNow:
            becomeFollower(term: message.term, leader: nil)
            return true
        }
    }

    private mutating func stepLowerTerm(_ message: Message) {
        switch message.kind {
        case .append, .heartbeat:
            // A deposed leader (or one cut off, under check-quorum or pre-vote where our term did not reach
            // it through votes) learns the newer term from this answer and steps down.
            if config.checkQuorum || config.preVote {
                send(to: message.from, .appendResponse(.accepted(matchIndex: .zero)))
            }
        case .preVote:
            // Tell the pre-candidate our term, so a node that fell behind catches up instead of retrying.
            send(to: message.from, .preVoteResponse(granted: false))
        default:
            break
        }
    }

    /// An append, heartbeat or snapshot from the leader of our term. Returns false when it is to be dropped.
    private mutating func followLeader(_ message: Message) -> Bool {
        switch role {
        case .leader:
            // Two leaders in one term cannot happen with correct votes; a broken driver may cause it
            // (the simulator's fault modes), and its checker reports it. Ignore rather than crash.
            return false
        case .candidate, .preCandidate:
            becomeFollower(term: term, leader: message.from)
        case .follower:
            break
        }
        leader = message.from
        electionElapsedTicks = 0
        return true
    }
}
