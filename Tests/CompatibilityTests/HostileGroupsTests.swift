import Foundation
import RunnelWire
import XCTest

/// Hostile input to the group coordinator (issue 12): values at the edges of their types, and strings
/// longer than the int16 lengths of `__consumer_offsets` records, sent raw to `runnel serve`. Each is
/// answered, the process keeps serving, and it restarts on the data directory the request wrote to.
final class HostileGroupsTests: XCTestCase {
    static let groupArguments = ["--group-initial-rebalance-delay-ms", "0"]
    static let tooLong = String(repeating: "x", count: 32 * 1024)

    static func commit(group: String, topic: String = "t", offset: Int64 = 5, retentionMs: Int64 = -1) -> OffsetCommitRequest {
        var partition = OffsetCommitRequest.OffsetCommitRequestPartition()
        partition.partitionIndex = 0
        partition.committedOffset = offset
        partition.committedMetadata = "m"
        var entry = OffsetCommitRequest.OffsetCommitRequestTopic()
        entry.name = topic
        entry.partitions = [partition]
        var request = OffsetCommitRequest()
        request.groupId = group
        request.generationIdOrMemberEpoch = -1
        request.retentionTimeMs = retentionMs
        request.topics = [entry]
        return request
    }

    static func committedOffset(_ client: HostileClient, group: String) throws -> Int64? {
        var fetch = OffsetFetchRequest()
        fetch.groupId = group
        var topic = OffsetFetchRequest.OffsetFetchRequestTopic()
        topic.name = "t"
        topic.partitionIndexes = [0]
        fetch.topics = [topic]
        return try client.call(fetch, version: 5)?.topics.first?.partitions.first?.committedOffset
    }

    // MARK: Item 2

    func testOffsetCommitV2WithARetentionNearInt64MaxIsAcceptedAndSurvivesARestart() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        for (index, retentionMs) in [Int64.max, Int64.max - 1, Int64.max / 2 + 1].enumerated() {
            let client = try HostileClient(port: broker.port)
            let response = try client.call(Self.commit(group: "g\(index)", retentionMs: retentionMs), version: 2)
            XCTAssertEqual(response?.topics.first?.partitions.first?.errorCode, 0, "retention \(retentionMs): Kafka accepts it")
            broker.assertStillServes("OffsetCommit v2 with retention \(retentionMs)")
        }
        broker.assertRestartsAndServes("OffsetCommit v2 with retentions near Int64.max")
        let client = try HostileClient(port: broker.port)
        XCTAssertEqual(try Self.committedOffset(client, group: "g0"), 5, "the commit is loaded again")
    }

    // MARK: Item 5

    func testOffsetCommitV8WithA32KiBGroupIDIsInvalidGroupID() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        let response = try client.call(Self.commit(group: Self.tooLong), version: 8)
        XCTAssertEqual(response?.topics.first?.partitions.first?.errorCode, ErrorCode.invalidGroupId.rawValue)
        broker.assertStillServes("OffsetCommit v8 with a 32 KiB group id")
        broker.assertRestartsAndServes("OffsetCommit v8 with a 32 KiB group id")
    }

    func testOffsetCommitV8WithA32KiBTopicNameIsInvalidRequest() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess()
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        let response = try client.call(Self.commit(group: "g", topic: Self.tooLong), version: 8)
        XCTAssertEqual(response?.topics.first?.partitions.first?.errorCode, ErrorCode.invalidRequest.rawValue)
        broker.assertStillServes("OffsetCommit v8 with a 32 KiB topic name")
        broker.assertRestartsAndServes("OffsetCommit v8 with a 32 KiB topic name")
    }

    /// JoinGroup v6 (flexible) then, as far as the broker lets it, the second join and the leader's
    /// SyncGroup (where the generation's record is written). The first error other than
    /// MEMBER_ID_REQUIRED, 0 when the member synced, nil when an answer did not come.
    static func joinAndSync(_ client: HostileClient, group: String = "g", protocolType: String = "consumer", clientID: String)
        throws -> Int16?
    {
        var join = JoinGroupRequest()
        join.groupId = group
        join.sessionTimeoutMs = 10_000
        join.rebalanceTimeoutMs = 10_000
        join.protocolType = protocolType
        var proto = JoinGroupRequest.JoinGroupRequestProtocol()
        proto.name = "range"
        proto.metadata = [1, 2, 3]
        join.protocols = [proto]
        guard var joined = try client.call(join, version: 6, clientId: clientID) else { return nil }
        if joined.errorCode == ErrorCode.memberIdRequired.rawValue {
            join.memberId = joined.memberId
            guard let again = try client.call(join, version: 6, clientId: clientID) else { return nil }
            joined = again
        }
        guard joined.errorCode == 0 else { return joined.errorCode }
        var sync = SyncGroupRequest()
        sync.groupId = group
        sync.generationId = joined.generationId
        sync.memberId = joined.memberId
        var assignment = SyncGroupRequest.SyncGroupRequestAssignment()
        assignment.memberId = joined.memberId
        assignment.assignment = [1]
        sync.assignments = [assignment]
        return try client.call(sync, version: 4, clientId: clientID)?.errorCode
    }

    func testJoinGroupV6WithA32767ByteClientIDIsInvalidRequest() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: Self.groupArguments)
        defer { broker.stop() }
        // The header's client id has an int16 length, so it fits; the member id made from it does not.
        let client = try HostileClient(port: broker.port)
        let answer = try Self.joinAndSync(client, clientID: String(repeating: "c", count: Int(Int16.max)))
        XCTAssertEqual(answer, ErrorCode.invalidRequest.rawValue)
        broker.assertStillServes("JoinGroup v6 with a 32 767-byte client id")
        broker.assertRestartsAndServes("JoinGroup v6 with a 32 767-byte client id")
    }

    func testJoinGroupV6WithA40000ByteProtocolTypeIsInvalidRequest() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: Self.groupArguments)
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        let answer = try Self.joinAndSync(client, protocolType: String(repeating: "p", count: 40_000), clientID: "hostile")
        XCTAssertEqual(answer, ErrorCode.invalidRequest.rawValue)
        broker.assertStillServes("JoinGroup v6 with a 40 000-byte protocol type")
        broker.assertRestartsAndServes("JoinGroup v6 with a 40 000-byte protocol type")
    }

    func testJoinGroupV6WithA32KiBGroupIDIsInvalidGroupID() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: Self.groupArguments)
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        let answer = try Self.joinAndSync(client, group: Self.tooLong, clientID: "hostile")
        XCTAssertEqual(answer, ErrorCode.invalidGroupId.rawValue)
        broker.assertStillServes("JoinGroup v6 with a 32 KiB group id")
        broker.assertRestartsAndServes("JoinGroup v6 with a 32 KiB group id")
    }

    /// Nothing the refused requests above did keeps an ordinary member out.
    func testAnOrdinaryMemberStillJoinsAndSyncsAfterRefusedJoins() throws {
        try Tools.requireBroker()
        let broker = try BrokerProcess(extraArguments: Self.groupArguments)
        defer { broker.stop() }
        let client = try HostileClient(port: broker.port)
        _ = try Self.joinAndSync(client, protocolType: String(repeating: "p", count: 40_000), clientID: "hostile")
        XCTAssertEqual(try Self.joinAndSync(client, clientID: "ordinary"), 0)
        broker.assertRestartsAndServes("an ordinary member after refused joins")
    }
}
