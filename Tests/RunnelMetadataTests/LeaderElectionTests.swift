import RunnelMetadata
import RunnelStorage
import XCTest

final class LeaderElectionTests: XCTestCase {
    var generator = SplitMix64(seed: 7)

    /// One topic of `partitions` partitions on brokers 1–3, RF 3, leaders rotating, every ISR full.
    func image(partitions: Int32 = 3) throws -> MetadataImage {
        var image = MetadataImage()
        let controller = Controller(defaultPartitions: partitions, defaultReplicationFactor: 3)
        try controller.createTopic(TopicSpec(name: "orders"), in: image, liveBrokers: [1, 2, 3], using: &generator)
            .forEach { image.apply($0) }
        return image
    }

    func apply(_ changes: [PartitionChange], to image: inout MetadataImage) {
        changes.forEach { image.apply(.partitionChange($0)) }
    }

    func testTheFirstLiveISRMemberInReplicaOrderLeadsNotTheFirstReplica() {
        // The seed system elected replicas[0] although it was the dead node.
        XCTAssertEqual(LeaderElection.choose(replicas: [1, 2, 3], isr: [1, 2, 3], fenced: [1], uncleanAllowed: false), .clean(2))
        XCTAssertEqual(LeaderElection.choose(replicas: [1, 2, 3], isr: [1, 3], fenced: [1], uncleanAllowed: false), .clean(3),
                       "a replica outside the ISR never leads a clean election")
        XCTAssertEqual(LeaderElection.choose(replicas: [3, 1, 2], isr: [2, 1], fenced: [], uncleanAllowed: false), .clean(1),
                       "replica order, not ISR order")
    }

    func testNoLiveISRMemberMeansOfflineUnlessUncleanElectionIsAllowed() {
        XCTAssertEqual(LeaderElection.choose(replicas: [1, 2, 3], isr: [1], fenced: [1], uncleanAllowed: false), .offline)
        XCTAssertEqual(LeaderElection.choose(replicas: [1, 2, 3], isr: [1], fenced: [1], uncleanAllowed: true), .unclean(2))
        XCTAssertEqual(LeaderElection.choose(replicas: [1, 2, 3], isr: [1], fenced: [1, 2, 3], uncleanAllowed: true), .offline)
    }

    func testFencingALeaderMovesEachOfItsPartitionsToALiveISRMemberWithAHigherEpoch() throws {
        var image = try image()
        let before = image.topic(named: "orders")!.partitions
        let changes = LeaderElection.changesFencing(1, in: image, fenced: [1])
        XCTAssertEqual(changes.count, 3, "broker 1 is in every ISR")
        apply(changes, to: &image)
        for (index, partition) in image.topic(named: "orders")!.partitions {
            let old = before[index]!
            XCTAssertFalse(partition.isr.contains(1), "the fenced broker left the ISR")
            XCTAssertNotEqual(partition.leader, 1)
            XCTAssertTrue(partition.isr.contains(partition.leader), "the new leader is an ISR member")
            XCTAssertEqual(partition.partitionEpoch, old.partitionEpoch + 1)
            XCTAssertEqual(partition.leaderEpoch, old.leaderEpoch + (old.leader == 1 ? 1 : 0),
                           "the leader epoch rises exactly when the leader changed")
        }
    }

    func testTheLastISRMemberStaysInTheISRAndThePartitionGoesOfflineUntilItReturns() throws {
        var image = try image(partitions: 1)
        let id = image.topic(named: "orders")!.id
        let leader = image.topic(named: "orders")!.partitions[0]!.leader
        let others: [BrokerID] = [1, 2, 3].filter { $0 != leader }
        // The followers are fenced first: the ISR shrinks to the leader alone.
        apply(LeaderElection.changesFencing(others[0], in: image, fenced: [others[0]]), to: &image)
        apply(LeaderElection.changesFencing(others[1], in: image, fenced: Set(others)), to: &image)
        XCTAssertEqual(image.topics[id]!.partitions[0]!.isr, [leader])
        // Then the leader: nobody in the ISR is live.
        let all = Set(others + [leader])
        apply(LeaderElection.changesFencing(leader, in: image, fenced: all), to: &image)
        let offline = image.topics[id]!.partitions[0]!
        XCTAssertEqual(offline.leader, noLeader)
        XCTAssertEqual(offline.isr, [leader], "the last ISR is kept, so only its member can bring the partition back")
        // A follower that returns cannot lead; the last ISR member can.
        XCTAssertTrue(LeaderElection.changesUnfencing(others[0], in: image, fenced: all.subtracting([others[0]])).isEmpty)
        let back = LeaderElection.changesUnfencing(leader, in: image, fenced: Set(others))
        apply(back, to: &image)
        XCTAssertEqual(image.topics[id]!.partitions[0]!.leader, leader)
        XCTAssertGreaterThan(image.topics[id]!.partitions[0]!.leaderEpoch, offline.leaderEpoch)
    }

    func testUncleanElectionTakesALiveReplicaOutsideTheISRAndMakesItTheWholeISR() throws {
        var image = try image(partitions: 1)
        let id = image.topic(named: "orders")!.id
        let leader = image.topic(named: "orders")!.partitions[0]!.leader
        let others: [BrokerID] = [1, 2, 3].filter { $0 != leader }
        apply(LeaderElection.changesFencing(others[0], in: image, fenced: [others[0]]), to: &image)
        apply(LeaderElection.changesFencing(others[1], in: image, fenced: Set(others)), to: &image)
        // The followers return (unfenced) but are not in the ISR; then the leader dies.
        apply(LeaderElection.changesFencing(leader, in: image, fenced: [leader], uncleanAllowed: { _ in true }), to: &image)
        let partition = image.topics[id]!.partitions[0]!
        XCTAssertTrue(others.contains(partition.leader))
        XCTAssertEqual(partition.isr, [partition.leader])
    }

    func testPreferredLeadersReturnOnlyWhenInTheISRAndLive() throws {
        var image = try image()
        apply(LeaderElection.changesFencing(1, in: image, fenced: [1]), to: &image)
        XCTAssertTrue(LeaderElection.preferredLeaderChanges(in: image, fenced: []).isEmpty,
                      "broker 1 is not back in the ISR yet")
        // Broker 1 caught up and rejoined every ISR.
        for topic in image.topics.values {
            for (index, partition) in topic.partitions where !partition.isr.contains(1) {
                image.apply(.partitionChange(PartitionChange(topicID: topic.id, partition: index, isr: partition.isr + [1])))
            }
        }
        XCTAssertTrue(LeaderElection.preferredLeaderChanges(in: image, fenced: [1]).isEmpty, "a fenced preferred replica waits")
        let moves = LeaderElection.preferredLeaderChanges(in: image, fenced: [])
        apply(moves, to: &image)
        for partition in image.topic(named: "orders")!.partitions.values {
            XCTAssertEqual(partition.leader, partition.replicas[0])
        }
        XCTAssertTrue(LeaderElection.preferredLeaderChanges(in: image, fenced: []).isEmpty, "nothing left to move")
    }
}

final class BrokerSessionsTests: XCTestCase {
    func testABrokerSilentForAWholeSessionExpiresAndAHeartbeatKeepsItAlive() {
        var sessions = BrokerSessions(sessionTimeoutMs: 1000)
        sessions.becameController(registered: [1: 10, 2: 20], nowMs: 0)
        XCTAssertEqual(sessions.heartbeat(from: 1, brokerEpoch: 10, registeredEpoch: 10, nowMs: 900), .accepted)
        XCTAssertEqual(sessions.expired(nowMs: 1000, unfenced: [1, 2]), [], "exactly a session is not yet too long")
        XCTAssertEqual(sessions.expired(nowMs: 1001, unfenced: [1, 2]), [2])
        XCTAssertEqual(sessions.expired(nowMs: 1901, unfenced: [1, 2]), [1, 2])
        XCTAssertEqual(sessions.expired(nowMs: 1901, unfenced: [1]), [1], "a fenced broker is not fenced again")
    }

    func testANewControllerGivesEveryBrokerAFullSessionBeforeFencing() {
        var sessions = BrokerSessions(sessionTimeoutMs: 1000)
        sessions.becameController(registered: [1: 1, 2: 1, 3: 1], nowMs: 50_000)
        XCTAssertEqual(sessions.expired(nowMs: 50_999, unfenced: [1, 2, 3]), [])
        XCTAssertEqual(sessions.expired(nowMs: 51_001, unfenced: [1, 2, 3]), [1, 2, 3])
    }

    func testAHeartbeatFromAnOlderIncarnationIsStale() {
        var sessions = BrokerSessions(sessionTimeoutMs: 1000)
        sessions.registered(1, brokerEpoch: 7, nowMs: 0)
        XCTAssertEqual(sessions.heartbeat(from: 1, brokerEpoch: 6, registeredEpoch: 7, nowMs: 900), .staleBrokerEpoch)
        XCTAssertEqual(sessions.expired(nowMs: 1001, unfenced: [1]), [1], "a stale heartbeat does not extend the session")
    }

    func testTimesFromAnyOriginNeverTrap() {
        var sessions = BrokerSessions(sessionTimeoutMs: 1000)
        sessions.registered(1, brokerEpoch: 1, nowMs: .max)
        XCTAssertEqual(sessions.expired(nowMs: .min, unfenced: [1]), [])
        sessions.registered(2, brokerEpoch: 1, nowMs: .min)
        XCTAssertEqual(sessions.expired(nowMs: .max, unfenced: [2]), [], "an overflowing difference is not a lapse")
    }
}
