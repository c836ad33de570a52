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
    /// Its fsyncs fail (a `failDisk` fault) until the disk is replaced.
    var diskFailing = false
    var incarnation = 0
    /// The membership manager leaves a removed voter out until then.
    var demotedUntilUnits = 0
    /// Armed by `crashAfterVotes`: until `crashAfterVoteUntilUnits`, crash after each vote granted and
    /// restart this many units later.
    var crashAfterVoteRestartUnits: Int?
    var crashAfterVoteUntilUnits = 0
    /// A restart the simulation scheduled itself (after a targeted crash).
    var restartAtUnits: Int?

    init(id: NodeID, tickPeriodUnits: Int, directory: DirectoryID) {
        self.id = id
        self.path = "/node\(id.rawValue)"
        self.tickPeriodUnits = tickPeriodUnits
        self.directory = directory
        self.machine = StateMachine(snapshot: PersistentState.empty.snapshot)
    }

    /// Kept apart from `raft` so hot loops need not read (and in debug builds copy) the Raft state.
    private(set) var isUp = false
    /// The role as of the last Ready's soft state.
    var role: Role = .follower

    func bringUp(_ node: RaftNode) {
        raft = node
        isUp = true
        role = .follower
    }

    func bringDown() {
        raft = nil
        wal = nil
        inflight = nil
        isUp = false
        role = .follower
    }
    var member: Voter { Voter(id: id, directory: directory) }
}
