// Compact one-line renderings for traces and scripted tests. Positions are written term/index, as etcd does.

extension Entry: CustomStringConvertible {
    public var description: String {
        let position = "\(term)/\(index)"
        switch kind {
        case .normal: return "\(position) \(renderData(data))"
        case .noop: return "\(position) noop"
        case .configChange:
            guard let membership = Membership(decoding: data) else { return "\(position) config <undecodable>" }
            return "\(position) config \(membership)"
        }
    }
}

extension Membership: CustomStringConvertible {
    public var description: String {
        let voterList = voters.map(\.description).joined(separator: " ")
        let learnerList = learners.map(\.description).joined(separator: " ")
        return learners.isEmpty ? "voters=[\(voterList)]" : "voters=[\(voterList)] learners=[\(learnerList)]"
    }
}

extension HardState: CustomStringConvertible {
    public var description: String { "term=\(term) vote=\(vote.map(\.description) ?? "none") commit=\(commit)" }
}

extension MessageKind: CustomStringConvertible {
    public var description: String {
        switch self {
        case .preVote(let index, let term): return "preVote last=\(term)/\(index)"
        case .preVoteResponse(let granted): return "preVoteResponse \(granted ? "granted" : "rejected")"
        case .vote(let index, let term, let transfer):
            return "vote last=\(term)/\(index)\(transfer ? " transfer" : "")"
        case .voteResponse(let granted): return "voteResponse \(granted ? "granted" : "rejected")"
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            let list = entries.map(\.description).joined(separator: ", ")
            return "append prev=\(prevTerm)/\(prevIndex) commit=\(commit) entries=[\(list)]"
        case .appendResponse(.accepted(let match)): return "appendResponse accepted match=\(match)"
        case .appendResponse(.rejected(let index, let hintIndex, let hintTerm)):
            return "appendResponse rejected index=\(index) hint=\(hintTerm)/\(hintIndex)"
        case .heartbeat(let commit): return "heartbeat commit=\(commit)"
        case .heartbeatResponse: return "heartbeatResponse"
        case .installSnapshot(let snapshot):
            let metadata = snapshot.metadata
            return "installSnapshot snapshot=\(metadata.term)/\(metadata.index) \(metadata.membership)"
        case .timeoutNow: return "timeoutNow"
        }
    }
}

extension Message: CustomStringConvertible {
    public var description: String { "\(from)->\(to) term=\(term) \(kind)" }
}

/// Printable data as a quoted string, anything else as hex.
private func renderData(_ data: [UInt8]) -> String {
    if data.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) {
        return "\"" + String(decoding: data, as: UTF8.self) + "\""
    }
    let digits: [Character] = Array("0123456789abcdef")
    return "0x" + String(data.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

extension ProposalError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notLeader(let leader): return "not leader (leader: \(leader.map(\.description) ?? "unknown"))"
        case .proposalDropped: return "proposal dropped"
        case .membershipChangePending: return "a membership change is pending"
        case .invalidMembershipChange: return "invalid membership change"
        }
    }
}

extension TransferError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notLeader(let leader): return "not leader (leader: \(leader.map(\.description) ?? "unknown"))"
        case .notVoter: return "target is not a voter"
        }
    }
}

extension CompactionError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .alreadyCompacted: return "already compacted"
        case .notApplied: return "not yet applied"
        }
    }
}
