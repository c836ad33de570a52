import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

/// Figures, not assertions: in-memory Raft throughput and WAL append+fsync rates on the real disk.
/// The only code of this target that reads a clock or the real disk; the simulation itself does neither.
public enum Benchmarks {
    public static func run(print: (String) -> Void) {
        print("raft, 3 in-process nodes, no disk: \(committedProposalsPerSecond(proposals: 200_000)) committed proposals/s")
        for batch in [1, 16, 256] {
            do {
                let rate = try walEntriesPerSecond(batch: batch, seconds: 2)
                print("WAL append+fsync, batch \(batch): \(rate.entries) entries/s (\(rate.syncs) fsyncs/s, 100-byte entries)")
            } catch {
                print("WAL append+fsync, batch \(batch): failed: \(error)")
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Three nodes exchanging messages directly; the leader takes proposals in batches of 64.
    static func committedProposalsPerSecond(proposals: Int) -> Int {
        let ids = (1...3).map { NodeID(UInt64($0)) }
        let voters = ids.map { Voter(id: $0, directory: DirectoryID(high: 0, low: $0.rawValue)) }
        var nodes = voters.map {
            RaftNode(
                config: RaftConfig(id: $0.id, directory: $0.directory, inflightAppendsMax: 256, entriesPerAppendMax: 256),
                state: .bootstrap(voters: voters))
        }
        var mailbox: [Message] = []
        func drain() {
            var rounds = 0
            while rounds < 1000 {
                rounds += 1
                var progressed = false
                for i in nodes.indices {
                    while let ready = nodes[i].ready() {
                        mailbox.append(contentsOf: ready.messages)
                        nodes[i].advance(ready)
                        progressed = true
                    }
                }
                if mailbox.isEmpty && !progressed { return }
                let batch = mailbox
                mailbox = []
                for message in batch { nodes[Int(message.to.rawValue) - 1].step(message) }
            }
        }
        nodes[0].campaign()
        drain()
        guard nodes[0].role == .leader else { return 0 }
        let payload = [UInt8](repeating: 7, count: 100)
        let clock = ContinuousClock()
        let began = clock.now
        let startCommit = nodes[0].commitIndex
        var proposed = 0
        while proposed < proposals {
            for _ in 0..<64 where proposed < proposals {
                if (try? nodes[0].propose(payload)) != nil { proposed += 1 }
            }
            drain()
        }
        drain()
        let committed = Int(nodes[0].commitIndex.rawValue - startCommit.rawValue)
        return Int(Double(committed) / seconds(clock.now - began))
    }

    /// Appends `batch` entries, then one fsync, repeatedly, on the real disk in a temporary directory.
    static func walEntriesPerSecond(batch: Int, seconds budget: Double) throws -> (entries: Int, syncs: Int) {
        let fs = PosixFileSystem()
        var random = SystemRandomNumberGenerator()
        let directory = "/tmp/runnel-sim-bench-\(random.next() % 1_000_000_000)"
        defer { try? fs.removeDirectory(directory) }
        let identity = DirectoryIdentity(nodeID: NodeID(1), directoryID: DirectoryID.random(using: &random))
        let voters = [Voter(id: identity.nodeID, directory: identity.directoryID)]
        try RaftWAL.format(fileSystem: fs, path: directory, identity: identity, initialState: .bootstrap(voters: voters))
        let wal = try RaftWAL.open(fileSystem: fs, path: directory, nodeID: identity.nodeID)
        let payload = [UInt8](repeating: 7, count: 100)
        let clock = ContinuousClock()
        let began = clock.now
        var next = LogIndex(1)
        var syncs = 0
        while seconds(clock.now - began) < budget {
            var entries: [Entry] = []
            entries.reserveCapacity(batch)
            for _ in 0..<batch {
                entries.append(Entry(term: Term(1), index: next, data: payload))
                next = next.next
            }
            try wal.save(hardState: HardState(term: Term(1), vote: nil, commit: entries.last!.index), entries: entries, snapshot: nil)
            try wal.sync()
            syncs += 1
        }
        let elapsed = seconds(clock.now - began)
        return (Int(Double(next.rawValue - 1) / elapsed), Int(Double(syncs) / elapsed))
    }
}
