@testable import RunnelBroker
import RunnelGroups
import RunnelStorage
import RunnelWire
import Synchronization
import XCTest

/// The group APIs end to end through the broker's dispatch.
final class GroupTests: XCTestCase {
    static func groupHarness() async throws -> BrokerHarness {
        try await BrokerHarness { $0.groupInitialRebalanceDelayMs = 20 }
    }

    static func joinRequest(group: String, memberID: String = "") -> JoinGroupRequest {
        var request = JoinGroupRequest()
        request.groupId = group
        request.memberId = memberID
        request.sessionTimeoutMs = 10_000
        request.rebalanceTimeoutMs = 10_000
        request.protocolType = "consumer"
        var proto = JoinGroupRequest.JoinGroupRequestProtocol()
        proto.name = "range"
        proto.metadata = [1, 2, 3]
        request.protocols = [proto]
        return request
    }

    /// A request that must be answered.
    func call<Request: KafkaRequestMessage>(_ harness: BrokerHarness, _ request: Request, version: Int16) async throws -> Request.Response {
        let response = try await harness.call(request, version: version)
        return try XCTUnwrap(response)
    }

    /// Two-step join (v4+), then sync as the leader: returns (member id, generation).
    func joinAndSync(_ harness: BrokerHarness, group: String, assignment: [UInt8]) async throws -> (String, Int32) {
        let first = try await call(harness, Self.joinRequest(group: group), version: 5)
        XCTAssertEqual(first.errorCode, ErrorCode.memberIdRequired.rawValue)
        XCTAssertFalse(first.memberId.isEmpty)
        let joined = try await call(harness, Self.joinRequest(group: group, memberID: first.memberId), version: 5)
        XCTAssertEqual(joined.errorCode, 0)
        XCTAssertEqual(joined.leader, first.memberId)
        XCTAssertEqual(joined.protocolName, "range")
        XCTAssertEqual(joined.members.map(\.metadata), [[1, 2, 3]])

        var sync = SyncGroupRequest()
        sync.groupId = group
        sync.generationId = joined.generationId
        sync.memberId = joined.memberId
        var entry = SyncGroupRequest.SyncGroupRequestAssignment()
        entry.memberId = joined.memberId
        entry.assignment = assignment
        sync.assignments = [entry]
        let synced = try await call(harness, sync, version: 3)
        XCTAssertEqual(synced.errorCode, 0)
        XCTAssertEqual(synced.assignment, assignment)
        return (joined.memberId, joined.generationId)
    }

    static func commitRequest(group: String, generation: Int32, memberID: String, topic: String, offsets: [Int32: Int64])
        -> OffsetCommitRequest
    {
        var request = OffsetCommitRequest()
        request.groupId = group
        request.generationIdOrMemberEpoch = generation
        request.memberId = memberID
        var topicEntry = OffsetCommitRequest.OffsetCommitRequestTopic()
        topicEntry.name = topic
        topicEntry.partitions = offsets.keys.sorted().map { index in
            var partition = OffsetCommitRequest.OffsetCommitRequestPartition()
            partition.partitionIndex = index
            partition.committedOffset = offsets[index]!
            partition.committedMetadata = "m\(index)"
            return partition
        }
        request.topics = [topicEntry]
        return request
    }

    func testJoinSyncHeartbeatCommitAndFetchRoundTrip() async throws {
        let harness = try await Self.groupHarness()
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let (memberID, generation) = try await joinAndSync(harness, group: "g", assignment: [9, 9])

        var heartbeat = HeartbeatRequest()
        heartbeat.groupId = "g"
        heartbeat.generationId = generation
        heartbeat.memberId = memberID
        let beat = try await harness.call(heartbeat, version: 4)
        XCTAssertEqual(beat?.errorCode, 0)
        heartbeat.generationId = generation + 1
        let stale = try await harness.call(heartbeat, version: 4)
        XCTAssertEqual(stale?.errorCode, ErrorCode.illegalGeneration.rawValue)

        let commit = try await call(harness, Self.commitRequest(group: "g", generation: generation, memberID: memberID, topic: "t", offsets: [0: 5, 1: 7]), version: 8)
        XCTAssertEqual(commit.topics.flatMap(\.partitions).map(\.errorCode), [0, 0])

        var fetch = OffsetFetchRequest()
        fetch.groupId = "g"
        var wanted = OffsetFetchRequest.OffsetFetchRequestTopic()
        wanted.name = "t"
        wanted.partitionIndexes = [0, 1, 2]
        fetch.topics = [wanted]
        let fetched = try await call(harness, fetch, version: 7)
        XCTAssertEqual(fetched.errorCode, 0)
        let partitions = try XCTUnwrap(fetched.topics.first).partitions
        XCTAssertEqual(partitions.map(\.committedOffset), [5, 7, -1], "partition 2 has nothing committed")
        XCTAssertEqual(partitions.map(\.metadata), ["m0", "m1", ""])

        var describe = DescribeGroupsRequest()
        describe.groups = ["g"]
        let described = try await call(harness, describe, version: 5).groups.first
        XCTAssertEqual(described?.groupState, "Stable")
        XCTAssertEqual(described?.members.map(\.memberAssignment), [[9, 9]])
        let listed = try await call(harness, ListGroupsRequest(), version: 4)
        XCTAssertEqual(listed.groups.map(\.groupId), ["g"])
    }

    func testLeaveV0FoldsTheMemberErrorIntoTheTopLevel() async throws {
        let harness = try await Self.groupHarness()
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let (memberID, _) = try await joinAndSync(harness, group: "g", assignment: [])
        var leave = LeaveGroupRequest()
        leave.groupId = "g"
        leave.memberId = "nobody"
        let unknown = try await harness.call(leave, version: 0)
        XCTAssertEqual(unknown?.errorCode, ErrorCode.unknownMemberId.rawValue)
        leave.memberId = memberID
        let left = try await harness.call(leave, version: 0)
        XCTAssertEqual(left?.errorCode, 0)

        var describe = DescribeGroupsRequest()
        describe.groups = ["g"]
        let described = try await call(harness, describe, version: 0).groups.first
        XCTAssertEqual(described?.groupState, "Empty")
    }

    func testSimpleCommitThenDeleteGroupForgetsOffsets() async throws {
        let harness = try await Self.groupHarness()
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let commit = try await call(harness, Self.commitRequest(group: "solo", generation: -1, memberID: "", topic: "t", offsets: [0: 3]), version: 2)
        XCTAssertEqual(commit.topics.first?.partitions.first?.errorCode, 0)
        var delete = DeleteGroupsRequest()
        delete.groupsNames = ["solo", "missing"]
        let deleted = try await call(harness, delete, version: 2)
        XCTAssertEqual(deleted.results.map(\.errorCode), [0, ErrorCode.groupIdNotFound.rawValue])

        var fetch = OffsetFetchRequest()
        fetch.groupId = "solo"
        fetch.topics = nil
        let fetched = try await call(harness, fetch, version: 7)
        XCTAssertTrue(fetched.topics.isEmpty)
    }

    func testJoinV0UsesTheSessionTimeoutAsRebalanceTimeoutAndNeedsNoSecondJoin() async throws {
        let harness = try await Self.groupHarness()
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let joined = try await call(harness, Self.joinRequest(group: "old"), version: 0)
        XCTAssertEqual(joined.errorCode, 0)
        XCTAssertEqual(joined.generationId, 1)
        XCTAssertEqual(joined.leader, joined.memberId)
    }
}

/// Group state lives in `__consumer_offsets` and survives a restart.
final class GroupPersistenceTests: XCTestCase {
    func testCommittedOffsetsSurviveACrashAndRestart() async throws {
        let fileSystem = SimulatedFileSystem()
        let first = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        let pump = first.pumpSyncs()
        let commit = try await first.call(
            GroupTests.commitRequest(group: "g", generation: -1, memberID: "", topic: "t", offsets: [0: 41, 3: 7]), version: 8)
        XCTAssertEqual(commit?.topics.flatMap(\.partitions).map(\.errorCode), [0, 0])
        pump.cancel()
        _ = await pump.value
        // Crash: lose whatever was not fsynced (the commit was answered only after it was).
        fileSystem.crash()

        let second = try await BrokerHarness(fileSystem: fileSystem) { $0.groupInitialRebalanceDelayMs = 20 }
        var fetch = OffsetFetchRequest()
        fetch.groupId = "g"
        fetch.topics = nil
        let fetched = try await second.call(fetch, version: 7)
        let partitions = fetched?.topics.flatMap(\.partitions) ?? []
        XCTAssertEqual(partitions.map(\.partitionIndex), [0, 3])
        XCTAssertEqual(partitions.map(\.committedOffset), [41, 7])
    }

    func testOffsetsTopicIsHiddenFromListingsButDescribedByName() async throws {
        let harness = try await GroupTests.groupHarness()
        var all = MetadataRequest()
        all.topics = nil
        let listed = try await harness.call(all, version: 12)
        XCTAssertEqual(listed?.topics.compactMap(\.name).contains("__consumer_offsets"), false)
        var named = MetadataRequest()
        var wanted = MetadataRequest.MetadataRequestTopic()
        wanted.name = "__consumer_offsets"
        named.topics = [wanted]
        let described = try await harness.call(named, version: 12)
        XCTAssertEqual(described?.topics.first?.isInternal, true)
        XCTAssertEqual(described?.topics.first?.errorCode, 0)
    }
}

/// The coordinator's availability as requests see it, and the group settings `serve` passes down.
final class GroupCoordinatorAvailabilityTests: XCTestCase {
    func testCoordinatorAnswersLoadInProgressUntilLoadedAndNotAvailableOnceStopped() async {
        let coordinator = GroupCoordinator(config: GroupConfig(), nowMs: { 1_000 })
        XCTAssertEqual(coordinator.unavailableError, .coordinatorLoadInProgress)
        let request = JoinRequest(
            groupID: "g", memberID: "", groupInstanceID: nil, clientID: "c", clientHost: "/h", protocolType: "consumer",
            protocols: [GroupProtocol(name: "range", metadata: [])], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
            requireKnownMemberID: true)
        let whileLoading = await coordinator.join(request)
        XCTAssertNil(whileLoading, "nothing is served before the state is rebuilt")

        let log = FakeGroupLog()
        coordinator.load([], writer: log.writer)
        XCTAssertNil(coordinator.unavailableError)
        let loaded = await coordinator.join(request)
        XCTAssertEqual(loaded?.error, .memberIDRequired)

        coordinator.stop()
        XCTAssertEqual(coordinator.unavailableError, .coordinatorNotAvailable)
    }

    func testAFailedWriteLeavesNothingInMemoryThatTheLogLacks() async {
        let log = FakeGroupLog()
        let coordinator = GroupCoordinator(config: GroupConfig(), nowMs: { 1_000 })
        coordinator.load([], writer: log.writer)
        let partition = RunnelGroups.TopicPartition("t", 0)
        func commit(_ offset: Int64) async -> GroupError? {
            await coordinator.commitOffsets(
                groupID: "g", generationID: -1, memberID: "", groupInstanceID: nil,
                offsets: [OffsetCommitEntry(partition, offset: offset)], retentionMs: nil
            ).first?.1
        }
        func fetched() -> Int64? { (coordinator.fetchOffsets(groupID: "g", partitions: [partition]).offsets[partition] ?? nil)?.offset }

        let first = await commit(5)
        XCTAssertEqual(first, GroupError.none)
        log.failing = true
        let failed = await commit(9)
        XCTAssertEqual(failed, .coordinatorNotAvailable)
        XCTAssertEqual(fetched(), 5, "the commit answered as failed is not visible")
        XCTAssertNil(coordinator.unavailableError, "the log could be read back: still the coordinator")
        log.failing = false
        let retried = await commit(9)
        XCTAssertEqual(retried, GroupError.none)
        XCTAssertEqual(fetched(), 9)
    }

    func testAnUnreadableLogAfterAFailedWriteMakesThisNodeNotTheCoordinator() async {
        let log = FakeGroupLog()
        let coordinator = GroupCoordinator(config: GroupConfig(), nowMs: { 1_000 })
        coordinator.load([], writer: log.writer)
        log.failing = true
        log.unreadable = true
        let answers = await coordinator.commitOffsets(
            groupID: "g", generationID: -1, memberID: "", groupInstanceID: nil,
            offsets: [OffsetCommitEntry(RunnelGroups.TopicPartition("t", 0), offset: 1)], retentionMs: nil)
        XCTAssertEqual(answers.map(\.1), [.coordinatorNotAvailable])
        XCTAssertEqual(coordinator.unavailableError, .notCoordinator)
    }

    /// The offsets topic is internal: DeleteTopics refuses it (as for any internal topic), so committed
    /// offsets cannot be taken away under the coordinator.
    func testDeletingTheOffsetsTopicIsRefusedAndItsOffsetsStay() async throws {
        let harness = try await GroupTests.groupHarness()
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let kept = try await harness.call(
            GroupTests.commitRequest(group: "g", generation: -1, memberID: "", topic: "t", offsets: [0: 3]), version: 8)
        XCTAssertEqual(kept?.topics.first?.partitions.first?.errorCode, 0)
        var delete = DeleteTopicsRequest()
        delete.topicNames = ["__consumer_offsets"]
        let deleted = try await harness.call(delete, version: 4)
        XCTAssertEqual(deleted?.responses.first?.errorCode, ErrorCode.invalidTopicException.rawValue)

        var fetch = OffsetFetchRequest()
        fetch.groupId = "g"
        fetch.topics = nil
        let fetched = try await harness.call(fetch, version: 7)
        XCTAssertEqual(fetched?.errorCode, 0)
        XCTAssertEqual(fetched?.topics.first?.partitions.first?.committedOffset, 3)
        let again = try await harness.call(
            GroupTests.commitRequest(group: "g", generation: -1, memberID: "", topic: "t", offsets: [0: 7]), version: 8)
        XCTAssertEqual(again?.topics.first?.partitions.first?.errorCode, 0)
    }

    func testSessionTimeoutBelowTheConfiguredMinimumIsRefused() async throws {
        let harness = try await BrokerHarness {
            $0.groupInitialRebalanceDelayMs = 20
            $0.groupSessionTimeoutMsMin = 12_000
        }
        let pump = harness.pumpSyncs()
        defer { pump.cancel() }
        let refused = try await harness.call(GroupTests.joinRequest(group: "g"), version: 5)
        XCTAssertEqual(refused?.errorCode, ErrorCode.invalidSessionTimeout.rawValue, "10 s is below the 12 s minimum")
        var allowed = GroupTests.joinRequest(group: "g")
        allowed.sessionTimeoutMs = 12_000
        let joined = try await harness.call(allowed, version: 5)
        XCTAssertEqual(joined?.errorCode, ErrorCode.memberIdRequired.rawValue)
    }

    func testOffsetsTopicAndDefaultFactorTopicsGetOneReplicaOnOneBroker() async throws {
        let harness = try await GroupTests.groupHarness()
        XCTAssertEqual(harness.broker.settings.offsetsTopicReplicationFactor, 3)
        XCTAssertEqual(harness.broker.settings.defaultReplicationFactor, 3)
        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "defaulted"
        topic.numPartitions = 2
        topic.replicationFactor = -1
        create.topics = [topic]
        let created = try await harness.call(create, version: 5)
        XCTAssertEqual(created?.topics.first?.errorCode, 0, created?.topics.first?.errorMessage ?? "")

        var metadata = MetadataRequest()
        metadata.topics = ["__consumer_offsets", "defaulted", "auto-created"].map { name in
            var wanted = MetadataRequest.MetadataRequestTopic()
            wanted.name = name
            return wanted
        }
        metadata.allowAutoTopicCreation = true
        let described = try await harness.call(metadata, version: 12)
        let replicas = Dictionary(uniqueKeysWithValues: (described?.topics ?? []).map { ($0.name ?? "", $0.partitions.map(\.replicaNodes)) })
        XCTAssertEqual(replicas["__consumer_offsets"], [[1]])
        XCTAssertEqual(replicas["defaulted"], [[1], [1]])
        XCTAssertEqual(replicas["auto-created"], [[1]])
    }
}

/// An offsets log in memory whose writes can be made to fail.
final class FakeGroupLog: Sendable {
    private struct State {
        var records: [GroupRecord] = []
        var failing = false
        var unreadable = false
    }
    private let state = Mutex(State())

    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }
    var unreadable: Bool {
        get { state.withLock { $0.unreadable } }
        set { state.withLock { $0.unreadable = newValue } }
    }

    var writer: GroupRecordWriter {
        GroupRecordWriter(
            append: { records in
                // A failed write appends nothing.
                let ok = self.state.withLock { state in
                    if !state.failing { state.records += records }
                    return !state.failing
                }
                return { ok }
            },
            readAll: {
                try self.state.withLock { state in
                    if state.unreadable { throw FakeLogError.unreadable }
                    return state.records
                }
            },
            reopen: { throw FakeLogError.unreadable })
    }

    enum FakeLogError: Error { case unreadable }
}
