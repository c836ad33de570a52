import XCTest

@testable import RunnelGroups

let range = GroupProtocol(name: "range", metadata: [1, 2, 3])
let roundRobin = GroupProtocol(name: "roundrobin", metadata: [4, 5])

/// Drives a core with a virtual clock and keeps the answers it owes, as the broker shell would. A class,
/// so that `h.answer(h.join(...))` reads the answers after the join ran.
final class Harness {
    var core: GroupCoordinatorCore
    var nowMs: Int64 = 1_000_000
    var joins: [JoinToken: JoinResult] = [:]
    var syncs: [SyncToken: SyncResult] = [:]
    var records: [GroupRecord] = []

    init(config: GroupConfig = GroupConfig()) {
        core = GroupCoordinatorCore(config: config)
    }

    func absorb(_ effects: GroupEffects) {
        for completion in effects.completions {
            switch completion {
            case .join(let token, let result):
                XCTAssertNil(joins[token], "join token answered twice")
                joins[token] = result
            case .sync(let token, let result):
                XCTAssertNil(syncs[token], "sync token answered twice")
                syncs[token] = result
            }
        }
        records += effects.records
    }

    @discardableResult
    func join(
        _ groupID: String = "g", memberID: String = "", instance: String? = nil, clientID: String = "c",
        protocolType: String = "consumer", protocols: [GroupProtocol] = [range], sessionTimeoutMs: Int32 = 10_000,
        rebalanceTimeoutMs: Int32 = 30_000, requireKnownMemberID: Bool = false
    ) -> JoinOutcome {
        let request = JoinRequest(
            groupID: groupID, memberID: memberID, groupInstanceID: instance, clientID: clientID, protocolType: protocolType,
            protocols: protocols, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs,
            requireKnownMemberID: requireKnownMemberID)
        let (outcome, effects) = core.join(request, nowMs: nowMs)
        absorb(effects)
        return outcome
    }

    /// The answer to a join, immediate or owed; nil while still waiting.
    func answer(_ outcome: JoinOutcome) -> JoinResult? {
        switch outcome {
        case .done(let result): return result
        case .pending(let token): return joins[token]
        }
    }

    func answer(_ outcome: SyncOutcome) -> SyncResult? {
        switch outcome {
        case .done(let result): return result
        case .pending(let token): return syncs[token]
        }
    }

    @discardableResult
    func sync(
        _ groupID: String = "g", generation: Int32, memberID: String, instance: String? = nil,
        assignments: [(memberID: String, assignment: [UInt8])] = []
    ) -> SyncOutcome {
        let (outcome, effects) = core.sync(
            SyncRequest(
                groupID: groupID, generationID: generation, memberID: memberID, groupInstanceID: instance,
                assignments: assignments), nowMs: nowMs)
        absorb(effects)
        return outcome
    }

    func heartbeat(_ groupID: String = "g", generation: Int32, memberID: String, instance: String? = nil) -> GroupError {
        core.heartbeat(groupID: groupID, generationID: generation, memberID: memberID, groupInstanceID: instance, nowMs: nowMs)
    }

    func leave(_ members: [LeavingMember], group groupID: String = "g") -> LeaveResult {
        let (result, effects) = core.leave(groupID: groupID, members: members, nowMs: nowMs)
        absorb(effects)
        return result
    }

    func commit(
        _ groupID: String = "g", generation: Int32, memberID: String, instance: String? = nil, _ offsets: [OffsetCommitEntry]
    ) -> [GroupError] {
        let (answers, effects) = core.commitOffsets(
            groupID: groupID, generationID: generation, memberID: memberID, groupInstanceID: instance, offsets: offsets,
            nowMs: nowMs)
        absorb(effects)
        return answers.map(\.1)
    }

    @discardableResult
    func advance(_ ms: Int64) -> [Expiration] {
        nowMs += ms
        let (expirations, effects) = core.tick(nowMs: nowMs)
        absorb(effects)
        return expirations
    }

    /// Joins `count` members (optionally static), lets the initial delay run out, and syncs them all with
    /// the leader assigning each member its index. Returns member ids in join order and the generation.
    func formStableGroup(
        _ groupID: String = "g", count: Int, instances: [String]? = nil
    ) -> (members: [String], generation: Int32, leader: String) {
        var outcomes: [JoinOutcome] = []
        for index in 0..<count {
            outcomes.append(join(groupID, instance: instances?[index], clientID: "c\(index)"))
        }
        for _ in 0..<20 where answer(outcomes[0]) == nil { advance(1_000) }
        let results = outcomes.map { answer($0)! }
        let members = results.map(\.memberID)
        let generation = results[0].generationID
        let leader = results[0].leaderID
        for (index, member) in members.enumerated() where member != leader {
            sync(groupID, generation: generation, memberID: member, instance: instances?[index])
        }
        let assignments = members.enumerated().map { (memberID: $0.element, assignment: [UInt8($0.offset)]) }
        let leaderIndex = members.firstIndex(of: leader)!
        sync(groupID, generation: generation, memberID: leader, instance: instances?[leaderIndex], assignments: assignments)
        precondition(core.state(of: groupID) == .stable)
        return (members, generation, leader)
    }
}
