// Byte forms of the values a write-ahead log stores and a transport carries. Big-endian; each top-level
// form starts with a version byte. Decoders return nil on malformed input and never trap.
//
//   Entry        term u64, index u64, kind u8, data (u32 length + bytes)
//   HardState    term u64, has-vote u8, vote u64, commit u64
//   Snapshot     index u64, term u64, membership (see MembershipCodec.swift), data (u32 length + bytes)
//   Message      from u64, directory high u64, low u64, to u64, term u64, kind tag u8, kind fields

enum RaftCodec {
    static let version: UInt8 = 1
    static let entryBytesMin = 8 + 8 + 1 + 4
}

extension Entry {
    public func encoded() -> [UInt8] { encodedForm { write(to: &$0) } }

    public init?(decoding bytes: [UInt8]) {
        guard let value = decodeForm(bytes, Entry.init(from:)) else { return nil }
        self = value
    }

    func write(to writer: inout ByteWriter) {
        writer.write(term.rawValue)
        writer.write(index.rawValue)
        writer.write(kind.rawValue)
        writer.write(blob: data)
    }

    init?(from reader: inout ByteReader) {
        guard let term = reader.readUInt64(), let index = reader.readUInt64(),
            let kind = reader.readUInt8().flatMap(EntryKind.init(rawValue:)), let data = reader.readBlob()
        else { return nil }
        self.init(term: Term(term), index: LogIndex(index), kind: kind, data: data)
    }
}

extension HardState {
    public func encoded() -> [UInt8] { encodedForm { write(to: &$0) } }

    public init?(decoding bytes: [UInt8]) {
        guard let value = decodeForm(bytes, HardState.init(from:)) else { return nil }
        self = value
    }

    func write(to writer: inout ByteWriter) {
        writer.write(term.rawValue)
        writer.write(vote != nil)
        writer.write(vote?.rawValue ?? 0)
        writer.write(commit.rawValue)
    }

    init?(from reader: inout ByteReader) {
        guard let term = reader.readUInt64(), let hasVote = reader.readBool(), let vote = reader.readUInt64(),
            let commit = reader.readUInt64()
        else { return nil }
        self.init(term: Term(term), vote: hasVote ? NodeID(vote) : nil, commit: LogIndex(commit))
    }
}

extension Snapshot {
    public func encoded() -> [UInt8] { encodedForm { write(to: &$0) } }

    public init?(decoding bytes: [UInt8]) {
        guard let value = decodeForm(bytes, Snapshot.init(from:)) else { return nil }
        self = value
    }

    func write(to writer: inout ByteWriter) {
        writer.write(metadata.index.rawValue)
        writer.write(metadata.term.rawValue)
        metadata.membership.write(to: &writer)
        writer.write(blob: data)
    }

    init?(from reader: inout ByteReader) {
        guard let index = reader.readUInt64(), let term = reader.readUInt64(),
            let membership = Membership(from: &reader), let data = reader.readBlob()
        else { return nil }
        self.init(metadata: SnapshotMetadata(index: LogIndex(index), term: Term(term), membership: membership), data: data)
    }
}

extension Message {
    public func encoded() -> [UInt8] { encodedForm { write(to: &$0) } }

    public init?(decoding bytes: [UInt8]) {
        guard let value = decodeForm(bytes, Message.init(from:)) else { return nil }
        self = value
    }

    private enum Tag: UInt8 {
        case preVote = 1, preVoteResponse, vote, voteResponse, append, appendAccepted, appendRejected, heartbeat,
            heartbeatResponse, installSnapshot, timeoutNow
    }

    func write(to writer: inout ByteWriter) {
        writer.write(from.rawValue)
        writer.write(fromDirectory.high)
        writer.write(fromDirectory.low)
        writer.write(to.rawValue)
        writer.write(term.rawValue)
        switch kind {
        case .preVote(let lastLogIndex, let lastLogTerm):
            writer.write(Tag.preVote.rawValue)
            writer.write(lastLogIndex.rawValue)
            writer.write(lastLogTerm.rawValue)
        case .preVoteResponse(let granted):
            writer.write(Tag.preVoteResponse.rawValue)
            writer.write(granted)
        case .vote(let lastLogIndex, let lastLogTerm, let leadershipTransfer):
            writer.write(Tag.vote.rawValue)
            writer.write(lastLogIndex.rawValue)
            writer.write(lastLogTerm.rawValue)
            writer.write(leadershipTransfer)
        case .voteResponse(let granted):
            writer.write(Tag.voteResponse.rawValue)
            writer.write(granted)
        case .append(let prevLogIndex, let prevLogTerm, let entries, let commit):
            writer.write(Tag.append.rawValue)
            writer.write(prevLogIndex.rawValue)
            writer.write(prevLogTerm.rawValue)
            writer.write(commit.rawValue)
            writer.write(UInt32(entries.count))
            for entry in entries { entry.write(to: &writer) }
        case .appendResponse(.accepted(let matchIndex)):
            writer.write(Tag.appendAccepted.rawValue)
            writer.write(matchIndex.rawValue)
        case .appendResponse(.rejected(let rejectedIndex, let hintIndex, let hintTerm)):
            writer.write(Tag.appendRejected.rawValue)
            writer.write(rejectedIndex.rawValue)
            writer.write(hintIndex.rawValue)
            writer.write(hintTerm.rawValue)
        case .heartbeat(let commit):
            writer.write(Tag.heartbeat.rawValue)
            writer.write(commit.rawValue)
        case .heartbeatResponse:
            writer.write(Tag.heartbeatResponse.rawValue)
        case .installSnapshot(let snapshot):
            writer.write(Tag.installSnapshot.rawValue)
            snapshot.write(to: &writer)
        case .timeoutNow:
            writer.write(Tag.timeoutNow.rawValue)
        }
    }

    init?(from reader: inout ByteReader) {
        guard let from = reader.readUInt64(), let high = reader.readUInt64(), let low = reader.readUInt64(),
            let to = reader.readUInt64(), let term = reader.readUInt64(),
            let tag = reader.readUInt8().flatMap(Tag.init(rawValue:))
        else { return nil }
        let kind: MessageKind
        switch tag {
        case .preVote:
            guard let index = reader.readUInt64(), let lastTerm = reader.readUInt64() else { return nil }
            kind = .preVote(lastLogIndex: LogIndex(index), lastLogTerm: Term(lastTerm))
        case .preVoteResponse:
            guard let granted = reader.readBool() else { return nil }
            kind = .preVoteResponse(granted: granted)
        case .vote:
            guard let index = reader.readUInt64(), let lastTerm = reader.readUInt64(), let transfer = reader.readBool()
            else { return nil }
            kind = .vote(lastLogIndex: LogIndex(index), lastLogTerm: Term(lastTerm), leadershipTransfer: transfer)
        case .voteResponse:
            guard let granted = reader.readBool() else { return nil }
            kind = .voteResponse(granted: granted)
        case .append:
            guard let prevIndex = reader.readUInt64(), let prevTerm = reader.readUInt64(),
                let commit = reader.readUInt64(), let count = reader.readCount(itemBytesMin: RaftCodec.entryBytesMin)
            else { return nil }
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                guard let entry = Entry(from: &reader) else { return nil }
                entries.append(entry)
            }
            kind = .append(
                prevLogIndex: LogIndex(prevIndex), prevLogTerm: Term(prevTerm), entries: entries, commit: LogIndex(commit))
        case .appendAccepted:
            guard let match = reader.readUInt64() else { return nil }
            kind = .appendResponse(.accepted(matchIndex: LogIndex(match)))
        case .appendRejected:
            guard let index = reader.readUInt64(), let hintIndex = reader.readUInt64(), let hintTerm = reader.readUInt64()
            else { return nil }
            kind = .appendResponse(
                .rejected(rejectedIndex: LogIndex(index), hintIndex: LogIndex(hintIndex), hintTerm: Term(hintTerm)))
        case .heartbeat:
            guard let commit = reader.readUInt64() else { return nil }
            kind = .heartbeat(commit: LogIndex(commit))
        case .heartbeatResponse:
            kind = .heartbeatResponse
        case .installSnapshot:
            guard let snapshot = Snapshot(from: &reader) else { return nil }
            kind = .installSnapshot(snapshot)
        case .timeoutNow:
            kind = .timeoutNow
        }
        self.init(
            from: NodeID(from), fromDirectory: DirectoryID(high: high, low: low), to: NodeID(to), term: Term(term),
            kind: kind)
    }
}

private func encodedForm(_ body: (inout ByteWriter) -> Void) -> [UInt8] {
    var writer = ByteWriter()
    writer.write(RaftCodec.version)
    body(&writer)
    return writer.bytes
}

private func decodeForm<Value>(_ bytes: [UInt8], _ read: (inout ByteReader) -> Value?) -> Value? {
    var reader = ByteReader(bytes)
    guard reader.readUInt8() == RaftCodec.version, let value = read(&reader), reader.isAtEnd else { return nil }
    return value
}
