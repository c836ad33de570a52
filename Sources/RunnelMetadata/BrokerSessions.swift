/// The controller's view of broker liveness, as Kafka's BrokerHeartbeatManager keeps it: heartbeats
/// come in as events with the time they arrived, and `expired` says which unfenced brokers have been
/// silent for a whole session. Heartbeats never go through the metadata log; only the fence decision
/// does. No clock of its own: the caller passes the time, so the simulator drives the same code.
public struct BrokerSessions: Sendable {
    public let sessionTimeoutMs: Int64
    /// The last heartbeat of each broker with the broker epoch it carried (the registration's).
    private var lastContact: [BrokerID: (atMs: Int64, brokerEpoch: Int64)] = [:]

    public init(sessionTimeoutMs: Int64) {
        precondition(sessionTimeoutMs > 0, "a session must last")
        self.sessionTimeoutMs = sessionTimeoutMs
    }

    /// A new controller has no heartbeat history: every registered broker gets a full session from now
    /// before it can be fenced, so that a change of controller never fences a live broker.
    public mutating func becameController(registered brokers: [BrokerID: Int64], nowMs: Int64) {
        lastContact = brokers.mapValues { (atMs: nowMs, brokerEpoch: $0) }
    }

    public enum HeartbeatResult: Hashable, Sendable {
        case accepted
        /// The heartbeat carries an older broker epoch than the broker's registration: a previous
        /// incarnation of the broker (STALE_BROKER_EPOCH).
        case staleBrokerEpoch
    }

    /// A heartbeat from `broker`, whose current registration has `registeredEpoch`.
    public mutating func heartbeat(from broker: BrokerID, brokerEpoch: Int64, registeredEpoch: Int64, nowMs: Int64) -> HeartbeatResult {
        guard brokerEpoch >= registeredEpoch else { return .staleBrokerEpoch }
        lastContact[broker] = (atMs: max(nowMs, lastContact[broker]?.atMs ?? nowMs), brokerEpoch: brokerEpoch)
        return .accepted
    }

    /// A broker that registered (again): its session starts now, with its new epoch.
    public mutating func registered(_ broker: BrokerID, brokerEpoch: Int64, nowMs: Int64) {
        lastContact[broker] = (atMs: nowMs, brokerEpoch: brokerEpoch)
    }

    public mutating func remove(_ broker: BrokerID) { lastContact[broker] = nil }

    /// Unfenced brokers silent for longer than the session timeout, in id order.
    public func expired(nowMs: Int64, unfenced: some Sequence<BrokerID>) -> [BrokerID] {
        unfenced.filter { broker in
            guard let contact = lastContact[broker] else { return false }  // no session yet: not ours to fence
            let silentMs = nowMs.subtractingReportingOverflow(contact.atMs)
            return !silentMs.overflow && silentMs.partialValue > sessionTimeoutMs
        }.sorted()
    }

    /// How long ago `broker` was last heard from, or nil when it has no session here.
    public func silenceMs(of broker: BrokerID, nowMs: Int64) -> Int64? {
        lastContact[broker].map { nowMs &- $0.atMs }
    }
}
