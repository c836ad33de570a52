import RunnelRaft

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A few in-memory Raft nodes, a message queue delivered on command, and "disks" that hold what each
/// node persisted (so `restart` loses exactly the unpersisted state). One handler per script command.
struct ClusterHarness {
    struct Member {
        var config: RaftConfig
        var node: RaftNode
        var storage: PersistentState
        var generation: UInt64 = 0
    }

    var members: [NodeID: Member] = [:]
    var inFlight: [Message] = []
    /// Nodes in different groups cannot exchange messages; absent nodes are in group 0.
    var groups: [NodeID: Int] = [:]
    var nextGroup = 1
    /// Bounds `stabilize`: a healthy cluster settles in far fewer rounds.
    static let stabilizeRoundsMax = 200

    var ids: [NodeID] { members.keys.sorted() }

    mutating func execute(_ line: String) throws -> [String] {
        var words = line.split(separator: " ").map(String.init)
        let command = words.removeFirst()
        var positional: [String] = []
        var options: [String: String] = [:]
        for word in words {
            if let equals = word.firstIndex(of: "=") {
                options[String(word[..<equals])] = String(word[word.index(after: equals)...])
            } else {
                positional.append(word)
            }
        }
        switch command {
        case "add-nodes": return try addNodes(positional, options)
        case "campaign": return try campaign(positional)
        case "propose": return try propose(positional)
        case "propose-change": return try proposeChange(positional)
        case "tick": return try tick(positional)
        case "tick-heartbeat": return try tickHeartbeat(positional)
        case "tick-election": return try tickElection(positional)
        case "deliver-msgs": return try deliver(to: nodeList(positional))
        case "process-ready": return try processReady(nodeList(positional))
        case "stabilize": return try stabilize(nodeList(positional))
        case "isolate": return try isolate(positional)
        case "partition": return try partition(positional)
        case "heal": return heal()
        case "compact": return try compact(positional)
        case "transfer-leadership": return try transferLeadership(positional)
        case "status": return try status(nodeList(positional))
        case "raft-log": return try raftLog(positional)
        case "membership": return try membership(positional)
        case "restart": return try restart(positional)
        case "wipe": return try wipe(positional)
        case "set-log": return try setLog(positional, options)
        default: throw HarnessError("unknown command \(command)")
        }
    }

    // MARK: Arguments

    func nodeID(_ word: String) throws -> NodeID {
        guard let raw = UInt64(word), members[NodeID(raw)] != nil else { throw HarnessError("no node \(word)") }
        return NodeID(raw)
    }

    func nodeList(_ words: [String]) throws -> [NodeID] {
        words.isEmpty ? ids : try words.map(nodeID)
    }

    func argument(_ positional: [String], _ position: Int, _ usage: String) throws -> String {
        guard position < positional.count else { throw HarnessError("usage: \(usage)") }
        return positional[position]
    }

    static func directory(id: NodeID, generation: UInt64) -> DirectoryID {
        DirectoryID(high: generation, low: id.rawValue)
    }

    // MARK: Setup

    /// add-nodes COUNT [voters=1,2,3] [pre-vote=true] [check-quorum=true] [election=10] [heartbeat=1]
    /// [max-entries=64] [inflight=64] [faults=figure8|skip-log-matching]
    mutating func addNodes(_ positional: [String], _ options: [String: String]) throws -> [String] {
        guard let count = UInt64(try argument(positional, 0, "add-nodes COUNT")) else { throw HarnessError("bad count") }
        let first = UInt64(members.count) + 1
        let newIDs = (first..<(first + count)).map(NodeID.init)
        let voterIDs = try options["voters"].map { try $0.split(separator: ",").map { raw -> NodeID in
            guard let value = UInt64(raw) else { throw HarnessError("bad voter \(raw)") }
            return NodeID(value)
        } } ?? newIDs
        let voters = voterIDs.map { Voter(id: $0, directory: ClusterHarness.directory(id: $0, generation: 0)) }
        var faults = RaftFaults()
        switch options["faults"] {
        case nil: break
        case "figure8": faults.commitByCountingOlderTermEntries = true
        case "skip-log-matching": faults.skipLogMatchingCheck = true
        case let other?: throw HarnessError("unknown faults \(other)")
        }
        for id in newIDs {
            let config = RaftConfig(
                id: id, directory: ClusterHarness.directory(id: id, generation: 0),
                electionTicks: Int(options["election"] ?? "10")!, heartbeatTicks: Int(options["heartbeat"] ?? "1")!,
                preVote: options["pre-vote"] != "false", checkQuorum: options["check-quorum"] != "false",
                inflightAppendsMax: Int(options["inflight"] ?? "64")!,
                entriesPerAppendMax: Int(options["max-entries"] ?? "64")!, seed: 42, faults: faults)
            let storage: PersistentState = voterIDs.contains(id) ? .bootstrap(voters: voters) : .empty
            members[id] = Member(config: config, node: RaftNode(config: config, state: storage), storage: storage)
        }
        return []
    }

    /// set-log ID TERM,TERM,… [term=T]: replaces the node's disk with entries of these terms and restarts it.
    mutating func setLog(_ positional: [String], _ options: [String: String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "set-log ID TERMS [term=T]"))
        let terms = try argument(positional, 1, "set-log ID TERMS").split(separator: ",").map { UInt64($0)! }
        var member = members[id]!
        member.storage.entries = terms.enumerated().map { offset, term in
            Entry(term: Term(term), index: LogIndex(UInt64(offset) + 1), data: Array("t\(term)".utf8))
        }
        let hardTerm = max(UInt64(options["term"] ?? "0")!, terms.last ?? 0)
        member.storage.hardState = HardState(term: Term(hardTerm), vote: nil, commit: .zero)
        member.node = RaftNode(config: member.config, state: member.storage)
        members[id] = member
        return []
    }

    mutating func restart(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "restart ID"))
        members[id]!.node = RaftNode(config: members[id]!.config, state: members[id]!.storage)
        return []
    }

    /// wipe ID: the node loses its disk and comes back with a new directory and no state.
    mutating func wipe(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "wipe ID"))
        var member = members[id]!
        member.generation += 1
        member.config.directory = ClusterHarness.directory(id: id, generation: member.generation)
        member.storage = .empty
        member.node = RaftNode(config: member.config, state: member.storage)
        members[id] = member
        return ["\(id) now has directory \(member.config.directory)"]
    }

    // MARK: Inputs

    mutating func campaign(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "campaign ID"))
        members[id]!.node.campaign()
        return []
    }

    mutating func propose(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "propose ID DATA"))
        let data = try argument(positional, 1, "propose ID DATA")
        do {
            let index = try members[id]!.node.propose(Array(data.utf8))
            return ["proposed at \(index)"]
        } catch {
            return ["error: \(error)"]
        }
    }

    /// propose-change ID (add-voter|remove-voter|add-learner|remove-learner|promote) TARGET
    mutating func proposeChange(_ positional: [String]) throws -> [String] {
        let usage = "propose-change ID KIND TARGET"
        let id = try nodeID(try argument(positional, 0, usage))
        let target = try nodeID(try argument(positional, 2, usage))
        let targetMember = Voter(id: target, directory: members[target]!.config.directory)
        let change: MembershipChange
        switch try argument(positional, 1, usage) {
        case "add-voter": change = .addVoter(targetMember)
        case "remove-voter": change = .removeVoter(target)
        case "add-learner": change = .addLearner(targetMember)
        case "remove-learner": change = .removeLearner(target)
        case "promote": change = .promoteLearner(target)
        case let other: throw HarnessError("unknown change \(other)")
        }
        do {
            let index = try members[id]!.node.proposeMembershipChange(change)
            return ["proposed at \(index)"]
        } catch {
            return ["error: \(error)"]
        }
    }

    mutating func tick(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "tick ID [COUNT]"))
        let count = positional.count > 1 ? Int(positional[1])! : 1
        for _ in 0..<count { members[id]!.node.tick() }
        return []
    }

    mutating func tickHeartbeat(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "tick-heartbeat ID"))
        for _ in 0..<members[id]!.config.heartbeatTicks { members[id]!.node.tick() }
        return []
    }

    /// tick-election ID…: ticks the nodes together until one changes role or term (a follower campaigns,
    /// a leader without a quorum steps down), at most two election timeouts.
    mutating func tickElection(_ positional: [String]) throws -> [String] {
        let targets = try nodeList(positional)
        guard !positional.isEmpty else { throw HarnessError("usage: tick-election ID…") }
        let before = targets.map { (members[$0]!.node.role, members[$0]!.node.term) }
        let ticksMax = 2 * targets.map { members[$0]!.config.electionTicks }.max()!
        for _ in 0..<ticksMax {
            for id in targets { members[id]!.node.tick() }
            let after = targets.map { (members[$0]!.node.role, members[$0]!.node.term) }
            if !zip(before, after).allSatisfy({ $0 == $1 }) { break }
        }
        return []
    }

    mutating func compact(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "compact ID INDEX"))
        let index = LogIndex(UInt64(try argument(positional, 1, "compact ID INDEX"))!)
        do {
            let snapshot = try members[id]!.node.compact(through: index, snapshotData: Array("state@\(index)".utf8))
            var storage = members[id]!.storage
            storage.snapshot = snapshot
            storage.entries.removeAll { $0.index <= index }
            members[id]!.storage = storage
            return ["snapshot \(snapshot.metadata.term)/\(snapshot.metadata.index) \(snapshot.metadata.membership)"]
        } catch {
            return ["error: \(error)"]
        }
    }

    mutating func transferLeadership(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "transfer-leadership FROM TO"))
        let target = try nodeID(try argument(positional, 1, "transfer-leadership FROM TO"))
        do {
            try members[id]!.node.transferLeadership(to: target)
            return []
        } catch {
            return ["error: \(error)"]
        }
    }

    // MARK: Network

    mutating func isolate(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "isolate ID"))
        groups[id] = nextGroup
        nextGroup += 1
        return []
    }

    /// partition 1,2 3,4,5: each argument is a group that only talks within itself.
    mutating func partition(_ positional: [String]) throws -> [String] {
        for word in positional {
            for raw in word.split(separator: ",") { groups[try nodeID(String(raw))] = nextGroup }
            nextGroup += 1
        }
        return []
    }

    mutating func heal() -> [String] {
        groups = [:]
        return []
    }

    func connected(_ a: NodeID, _ b: NodeID) -> Bool { groups[a, default: 0] == groups[b, default: 0] }

    func render(_ message: Message) -> String {
        let usual = ClusterHarness.directory(id: message.from, generation: 0)
        return message.fromDirectory == usual ? "\(message)" : "\(message) (from \(message.fromDirectory))"
    }

    /// Delivers, in order, the queued messages addressed to `targets`; messages across a partition are lost.
    mutating func deliver(to targets: [NodeID]) throws -> [String] {
        var output: [String] = []
        var remaining: [Message] = []
        let batch = inFlight
        inFlight = []
        for message in batch {
            guard targets.contains(message.to) else {
                remaining.append(message)
                continue
            }
            guard connected(message.from, message.to), members[message.to] != nil else {
                output.append("\(render(message)) DROPPED")
                continue
            }
            output.append(render(message))
            members[message.to]!.node.step(message)
        }
        inFlight = remaining + inFlight
        return output
    }

    // MARK: Ready

    mutating func processReady(_ targets: [NodeID]) throws -> [String] {
        var output: [String] = []
        for id in targets {
            guard let ready = members[id]!.node.ready() else { continue }
            output.append("> \(id) ready")
            if let soft = ready.softState {
                output.append("  soft: role=\(soft.role) leader=\(soft.leader.map(\.description) ?? "none")")
            }
            if let hard = ready.hardState { output.append("  hard: \(hard)") }
            if let snapshot = ready.snapshot {
                let metadata = snapshot.metadata
                output.append("  snapshot: \(metadata.term)/\(metadata.index) \(metadata.membership)")
            }
            for entry in ready.entries { output.append("  persist: \(entry)") }
            for entry in ready.committedEntries { output.append("  apply: \(entry)") }
            for message in ready.messages { output.append("  send: \(render(message))") }
            persist(ready, id)
            inFlight.append(contentsOf: ready.messages)
            members[id]!.node.advance(ready)
        }
        return output
    }

    mutating func persist(_ ready: Ready, _ id: NodeID) {
        var storage = members[id]!.storage
        if let snapshot = ready.snapshot {
            storage.snapshot = snapshot
            storage.entries = []
        }
        if let first = ready.entries.first {
            storage.entries.removeAll { $0.index >= first.index }
            storage.entries.append(contentsOf: ready.entries)
        }
        if let hard = ready.hardState { storage.hardState = hard }
        members[id]!.storage = storage
    }

    /// Processes Ready and delivers messages among `targets` until nothing moves.
    mutating func stabilize(_ targets: [NodeID]) throws -> [String] {
        var output: [String] = []
        for _ in 0..<ClusterHarness.stabilizeRoundsMax {
            let readyOutput = try processReady(targets)
            let deliverOutput = try deliver(to: targets)
            if readyOutput.isEmpty && deliverOutput.isEmpty { return output }
            output += readyOutput
            output += deliverOutput
        }
        throw HarnessError("stabilize did not settle in \(ClusterHarness.stabilizeRoundsMax) rounds")
    }

    // MARK: Inspection

    func status(_ targets: [NodeID]) throws -> [String] {
        var output: [String] = []
        for id in targets {
            let node = members[id]!.node
            output.append(
                "\(id): \(node.role) term=\(node.term) vote=\(node.vote.map(\.description) ?? "none") "
                    + "leader=\(node.leader.map(\.description) ?? "none") commit=\(node.commitIndex) "
                    + "applied=\(node.appliedIndex) last=\(node.lastTerm)/\(node.lastIndex)")
            for (follower, progress) in node.followerStatus.sorted(by: { $0.key < $1.key }) {
                output.append("  \(follower): match=\(progress.match) next=\(progress.next) \(progress.state)")
            }
        }
        return output
    }

    func raftLog(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "raft-log ID"))
        let node = members[id]!.node
        var output: [String] = []
        let metadata = node.snapshotMetadata
        if metadata.index > .zero { output.append("snapshot \(metadata.term)/\(metadata.index)") }
        for entry in node.entries(from: node.firstIndex) ?? [] { output.append("\(entry)") }
        return output.isEmpty ? ["log is empty"] : output
    }

    func membership(_ positional: [String]) throws -> [String] {
        let id = try nodeID(try argument(positional, 0, "membership ID"))
        return ["\(members[id]!.node.membership)"]
    }
}
