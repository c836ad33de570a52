import RunnelRaft
import RunnelRaftStorage
import RunnelStorage

/// A `Ready` persisted and waiting for its fsync to complete (simulated fsync latency).
struct InflightReady {
    var ready: Ready
    var syncAtUnits: Int
    /// Whether its messages already left (only the `sendBeforeFsync` driver does that).
    var sent: Bool
}

/// One node of the simulated cluster: its disk survives crashes; its Raft state and WAL handle do not.
final class SimulatedNode {
    let id: NodeID
    let fileSystem = SimulatedFileSystem()
    let path: String
    let tickPeriodUnits: Int
    var directory: DirectoryID
    var wal: RaftWAL?
    var raft: RaftNode?
    var machine: StateMachine
    var nextTickAtUnits = 0
    var inflight: InflightReady?
    /// The highest index whose entry was reported to the committed-entries checker.
    var committedChecked: LogIndex = .zero
    var wiped = false
    var incarnation = 0
    /// The membership manager leaves a removed voter out until then.
    var demotedUntilUnits = 0
    /// Armed by `crashAfterNextVote`: restart this many units after the crash.
    var crashAfterVoteRestartUnits: Int?
    /// A restart the simulation scheduled itself (after a targeted crash).
    var restartAtUnits: Int?

    init(id: NodeID, tickPeriodUnits: Int, directory: DirectoryID) {
        self.id = id
        self.path = "/node\(id.rawValue)"
        self.tickPeriodUnits = tickPeriodUnits
        self.directory = directory
        self.machine = StateMachine(snapshot: PersistentState.empty.snapshot)
    }

    var isUp: Bool { raft != nil }
    var member: Voter { Voter(id: id, directory: directory) }
}
