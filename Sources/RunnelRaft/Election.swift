extension RaftNode {
    /// Starts a (pre-)election. Only a voter of the configuration in force (or of the committed one while
    /// its removal is pending) campaigns.
    public mutating func campaign() {
        guard role != .leader, canCampaign else { return }
        campaign(preVote: config.preVote, transfer: false)
    }

    mutating func campaign(preVote: Bool, transfer: Bool) {
        precondition(canCampaign, "only a configured voter campaigns")
        let requestTerm: Term
        if preVote {
            // Ask whether we could win term + 1 without moving there, so a node that cannot win (say, one
            // returning from a partition) does not inflate terms and depose a healthy leader.
            resetRoleState()
            role = .preCandidate
            leader = nil
            requestTerm = term.next
        } else {
            becomeFollower(term: term.next, leader: nil)
            role = .candidate
            recordVote(for: config.id)
            requestTerm = term
        }
        votes[config.id] = true
        if tallyVotes() { return }
        for voter in membership.voters where voter.id != config.id {
            let kind: MessageKind =
                preVote
                ? .preVote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm)
                : .vote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm, leadershipTransfer: transfer)
            send(to: voter.id, term: requestTerm, kind)
        }
    }

    /// Grants at most one vote per term (persisted in the hard state before the answer is sent).
    mutating func recordVote(for candidate: NodeID) {
        precondition(vote == nil || vote == candidate, "a second vote in term \(term)")
        vote = candidate
    }

    mutating func handleVoteRequest(_ message: Message, lastLogIndex: LogIndex, lastLogTerm: Term, preVote: Bool) {
        // We may grant: a repeated request from the candidate we voted for; a fresh vote when we know no
        // leader in this term; a pre-vote for a future term (it commits us to nothing).
        let canVote =
            vote == message.from || (vote == nil && leader == nil) || (preVote && message.term > term)
        if canVote && log.isUpToDate(lastIndex: lastLogIndex, lastTerm: lastLogTerm) {
            if preVote {
                send(to: message.from, term: message.term, .preVoteResponse(granted: true))
            } else {
                recordVote(for: message.from)
                electionElapsedTicks = 0
                send(to: message.from, .voteResponse(granted: true))
            }
        } else {
            send(to: message.from, preVote ? .preVoteResponse(granted: false) : .voteResponse(granted: false))
        }
    }

    mutating func handleVoteResponse(_ message: Message, granted: Bool) {
        // A vote counts only from a configured voter answering from its configured directory: a node whose
        // disk was wiped has forgotten its votes and log, and must not help elect anyone.
        guard isConfiguredVoter(message.from, directory: message.fromDirectory) else { return }
        if votes[message.from] == nil { votes[message.from] = granted }
        _ = tallyVotes()
    }

    /// Acts on the votes so far; true when the election is decided.
    private mutating func tallyVotes() -> Bool {
        var granted = 0
        var refused = 0
        for voter in membership.voters {
            switch votes[voter.id] {
            case true?: granted += 1
            case false?: refused += 1
            case nil: break
            }
        }
        if granted >= quorumSize {
            if role == .preCandidate {
                campaign(preVote: false, transfer: false)
            } else {
                becomeLeader()
            }
            return true
        }
        if refused >= quorumSize {
            becomeFollower(term: term, leader: nil)
            return true
        }
        return false
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        resetRoleState()
        role = .leader
        leader = config.id
        for member in membership.voters + membership.learners where member.id != config.id {
            progress[member.id] = Progress(directory: member.directory, next: log.lastIndex.next)
        }
        // Until an entry of this term commits, the leader may not know which configuration is committed;
        // holding back membership changes until then avoids the single-server change bug of the thesis.
        membershipBarrier = log.lastIndex.next
        appendAsLeader([Entry(term: term, index: log.lastIndex.next, kind: .noop)])
    }
}
