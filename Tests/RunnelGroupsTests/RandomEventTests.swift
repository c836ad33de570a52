import XCTest

@testable import RunnelGroups

/// Seeded random events against the core, with invariants checked after each: it never traps, each
/// owed answer comes once, generations never go back, groups stay within their size limit.
final class RandomEventTests: XCTestCase {
    struct SplitMix64 {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    func testRandomEventsKeepTheInvariants() {
        var stableSeen = 0
        var rebuiltCompared = 0
        for seed in UInt64(1)...40 {
            var random = SplitMix64(state: seed)
            var config = GroupConfig()
            config.groupSizeMax = 5
            config.offsetsRetentionMs = 120_000
            config.offsetsRetentionCheckIntervalMs = 5_000
            let h = Harness(config: config)
            var known: [String] = []
            var generations: [String: Int32] = [:]
            let groupIDs = ["a", "b"]
            let instances: [String?] = [nil, nil, "s1", "s2"]
            for _ in 0..<400 {
                let groupID = groupIDs[random.next(groupIDs.count)]
                let generation = h.core.generation(of: groupID) ?? -1
                let current = h.core.describe(groupIDs: [groupID])[0].members
                var member = known.isEmpty || random.next(4) == 0 ? "" : known[random.next(known.count)]
                var instance = instances[random.next(instances.count)]
                if !current.isEmpty && random.next(3) > 0 {
                    // Mostly act as a real member, so that groups get through their rebalances.
                    let chosen = current[random.next(current.count)]
                    (member, instance) = (chosen.memberID, chosen.groupInstanceID)
                }
                switch random.next(9) {
                case 0, 1:
                    let protocols = random.next(5) == 0 ? [roundRobin, range] : [range]
                    let outcome = h.join(
                        groupID, memberID: member, instance: instance, protocols: protocols,
                        requireKnownMemberID: random.next(2) == 0)
                    if let answer = h.answer(outcome), !answer.memberID.isEmpty { known.append(answer.memberID) }
                case 2:
                    let assignments = current.map(\.memberID).map { (memberID: $0, assignment: [UInt8(random.next(200))]) }
                    h.sync(groupID, generation: generation, memberID: member, instance: instance, assignments: assignments)
                case 3:
                    _ = h.heartbeat(groupID, generation: generation, memberID: member, instance: instance)
                case 4:
                    _ = h.leave([LeavingMember(memberID: member, groupInstanceID: instance)], group: groupID)
                case 5:
                    _ = h.commit(
                        groupID, generation: random.next(3) == 0 ? -1 : generation, memberID: member, instance: instance,
                        [OffsetCommitEntry(TopicPartition("t", Int32(random.next(3))), offset: Int64(random.next(1000)))])
                case 6:
                    h.absorb(h.core.delete(groupIDs: [groupID], nowMs: h.nowMs).1)
                default:
                    h.advance(Int64(random.next(6_000)))
                }
                stableSeen += groupIDs.filter { h.core.state(of: $0) == .stable }.count
                for id in groupIDs {
                    if let now = h.core.generation(of: id) {
                        // A deleted or expired group may start again from zero; otherwise generations only grow.
                        XCTAssertGreaterThanOrEqual(now, generations[id] ?? 0, "seed \(seed)")
                        generations[id] = now
                    } else {
                        generations[id] = nil
                    }
                    XCTAssertLessThanOrEqual(h.core.describe(groupIDs: [id])[0].members.count, config.groupSizeMax)
                }
            }
            // Rebuilding from everything emitted agrees with the live core on all stable or empty groups.
            var rebuilt = GroupCoordinatorCore(config: config)
            rebuilt.load(h.records, nowMs: h.nowMs)
            for id in groupIDs where [.stable, .empty].contains(h.core.state(of: id)) && h.core.generation(of: id) ?? 0 > 0 {
                XCTAssertEqual(rebuilt.describe(groupIDs: [id]), h.core.describe(groupIDs: [id]), "seed \(seed) group \(id)")
                rebuiltCompared += 1
            }
            for id in groupIDs {
                XCTAssertEqual(rebuilt.fetchOffsets(groupID: id, partitions: nil), h.core.fetchOffsets(groupID: id, partitions: nil), "seed \(seed)")
            }
        }
        // The walk must reach the interesting states, or it proves little.
        XCTAssertGreaterThan(stableSeen, 100)
        XCTAssertGreaterThan(rebuiltCompared, 5)
        print("random walk: \(stableSeen) stable observations, \(rebuiltCompared) rebuilt groups compared")
    }
}
