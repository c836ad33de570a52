import RunnelGroups
import RunnelWire

/// The nine classic group APIs: each request translated per version into the core's terms and back.
extension Broker {
    func handleJoinGroup(_ request: JoinGroupRequest, _ context: RequestContext) async -> JoinGroupResponse {
        if let code = groups.unavailableError {
            var response = JoinGroupResponse()
            response.errorCode = code.rawValue
            response.protocolName = context.version >= 7 ? nil : ""
            return response
        }
        let joinRequest = JoinRequest(
            groupID: request.groupId, memberID: request.memberId,
            groupInstanceID: context.version >= 5 ? request.groupInstanceId : nil,
            clientID: context.header.clientId ?? "", clientHost: "/\(context.peer)", protocolType: request.protocolType,
            protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            sessionTimeoutMs: request.sessionTimeoutMs,
            // v0 has no rebalance timeout: Kafka uses the session timeout.
            rebalanceTimeoutMs: context.version == 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
            requireKnownMemberID: context.version >= 4)
        var response = JoinGroupResponse()
        guard let result = await groups.join(joinRequest) else {
            response.errorCode = ErrorCode.coordinatorNotAvailable.rawValue
            response.protocolName = context.version >= 7 ? nil : ""
            return response
        }
        response.errorCode = result.error.code
        response.generationId = result.generationID
        response.protocolType = result.protocolType
        response.protocolName = result.protocolName ?? (context.version >= 7 ? nil : "")
        response.leader = result.leaderID
        response.memberId = result.memberID
        response.members = result.members.map { member in
            var entry = JoinGroupResponse.JoinGroupResponseMember()
            entry.memberId = member.memberID
            entry.groupInstanceId = member.groupInstanceID
            entry.metadata = member.metadata
            return entry
        }
        return response
    }

    func handleSyncGroup(_ request: SyncGroupRequest, _ context: RequestContext) async -> SyncGroupResponse {
        if let code = groups.unavailableError {
            var response = SyncGroupResponse()
            response.errorCode = code.rawValue
            return response
        }
        let syncRequest = SyncRequest(
            groupID: request.groupId, generationID: request.generationId, memberID: request.memberId,
            groupInstanceID: context.version >= 3 ? request.groupInstanceId : nil,
            assignments: request.assignments.map { (memberID: $0.memberId, assignment: $0.assignment) })
        var response = SyncGroupResponse()
        guard let result = await groups.sync(syncRequest) else {
            response.errorCode = ErrorCode.coordinatorNotAvailable.rawValue
            return response
        }
        response.errorCode = result.error.code
        response.assignment = result.assignment
        return response
    }

    func handleHeartbeat(_ request: HeartbeatRequest, _ context: RequestContext) -> HeartbeatResponse {
        var response = HeartbeatResponse()
        if let code = groups.unavailableError {
            response.errorCode = code.rawValue
            return response
        }
        response.errorCode = groups.heartbeat(
            groupID: request.groupId, generationID: request.generationId, memberID: request.memberId,
            groupInstanceID: context.version >= 3 ? request.groupInstanceId : nil
        ).code
        return response
    }

    func handleLeaveGroup(_ request: LeaveGroupRequest, _ context: RequestContext) async -> LeaveGroupResponse {
        var response = LeaveGroupResponse()
        if let code = groups.unavailableError {
            response.errorCode = code.rawValue
            return response
        }
        if context.version < 3 {
            // One member and a top-level error only.
            let result = await groups.leave(groupID: request.groupId, members: [LeavingMember(memberID: request.memberId)])
            response.errorCode = result.error != .none ? result.error.code : (result.members.first?.error ?? .none).code
            return response
        }
        let members = request.members.map { LeavingMember(memberID: $0.memberId, groupInstanceID: $0.groupInstanceId) }
        let result = await groups.leave(groupID: request.groupId, members: members)
        response.errorCode = result.error.code
        response.members = result.members.map { member, error in
            var entry = LeaveGroupResponse.MemberResponse()
            entry.memberId = member.memberID
            entry.groupInstanceId = member.groupInstanceID
            entry.errorCode = error.code
            return entry
        }
        return response
    }

    func handleOffsetCommit(_ request: OffsetCommitRequest, _ context: RequestContext) async -> OffsetCommitResponse {
        let unavailable = groups.unavailableError
        var entries: [OffsetCommitEntry] = []
        for topic in request.topics {
            for partition in topic.partitions {
                entries.append(
                    OffsetCommitEntry(
                        TopicPartition(topic.name, partition.partitionIndex), offset: partition.committedOffset,
                        leaderEpoch: context.version >= 6 ? partition.committedLeaderEpoch : -1,
                        metadata: partition.committedMetadata))
            }
        }
        // v2–4 carry a retention time; -1 means the broker's default.
        let retentionMs: Int64? = (2...4).contains(context.version) && request.retentionTimeMs >= 0 ? request.retentionTimeMs : nil
        let answers = unavailable != nil ? [] : await groups.commitOffsets(
            groupID: request.groupId, generationID: request.generationIdOrMemberEpoch, memberID: request.memberId,
            groupInstanceID: context.version >= 7 ? request.groupInstanceId : nil, offsets: entries, retentionMs: retentionMs)
        var errors: [TopicPartition: GroupError] = [:]
        for (topicPartition, error) in answers { errors[topicPartition] = error }
        var response = OffsetCommitResponse()
        response.topics = request.topics.map { topic in
            var entry = OffsetCommitResponse.OffsetCommitResponseTopic()
            entry.name = topic.name
            entry.partitions = topic.partitions.map { partition in
                var answer = OffsetCommitResponse.OffsetCommitResponsePartition()
                answer.partitionIndex = partition.partitionIndex
                if let unavailable {
                    answer.errorCode = unavailable.rawValue
                } else {
                    answer.errorCode = (errors[TopicPartition(topic.name, partition.partitionIndex)] ?? .unknownServerError).code
                }
                return answer
            }
            return entry
        }
        return response
    }

    func handleOffsetFetch(_ request: OffsetFetchRequest, _ context: RequestContext) -> OffsetFetchResponse {
        if let code = groups.unavailableError {
            var response = OffsetFetchResponse()
            response.errorCode = code.rawValue
            // v1 has no top-level error: it goes to every partition asked for.
            response.topics = (request.topics ?? []).map { wanted in
                var topic = OffsetFetchResponse.OffsetFetchResponseTopic()
                topic.name = wanted.name
                topic.partitions = wanted.partitionIndexes.map { index in
                    var partition = OffsetFetchResponse.OffsetFetchResponsePartition()
                    partition.partitionIndex = index
                    partition.committedOffset = -1
                    partition.errorCode = code.rawValue
                    return partition
                }
                return topic
            }
            return response
        }
        // v2+: a null topic list asks for every committed partition.
        let wanted = request.topics.map { topics in
            topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic.name, $0) } }
        }
        let result = groups.fetchOffsets(groupID: request.groupId, partitions: wanted)
        var response = OffsetFetchResponse()
        if context.version >= 2 { response.errorCode = result.error.code }
        let byTopic = Dictionary(grouping: result.offsets.keys.sorted(), by: \.topic)
        response.topics = byTopic.keys.sorted().map { name in
            var topic = OffsetFetchResponse.OffsetFetchResponseTopic()
            topic.name = name
            topic.partitions = byTopic[name, default: []].map { topicPartition in
                var partition = OffsetFetchResponse.OffsetFetchResponsePartition()
                partition.partitionIndex = topicPartition.partition
                // v0–1 have no top-level error: it goes to every partition.
                if context.version < 2 { partition.errorCode = result.error.code }
                if let committed = result.offsets[topicPartition] ?? nil {
                    partition.committedOffset = committed.offset
                    partition.committedLeaderEpoch = committed.leaderEpoch
                    partition.metadata = committed.metadata
                } else {
                    partition.committedOffset = -1
                    partition.metadata = ""
                }
                return partition
            }
            return topic
        }
        return response
    }

    func handleDescribeGroups(_ request: DescribeGroupsRequest, _ context: RequestContext) -> DescribeGroupsResponse {
        var response = DescribeGroupsResponse()
        if let code = groups.unavailableError {
            response.groups = request.groups.map { groupID in
                var entry = DescribeGroupsResponse.DescribedGroup()
                entry.errorCode = code.rawValue
                entry.groupId = groupID
                return entry
            }
            return response
        }
        response.groups = groups.describe(groupIDs: request.groups).map { group in
            var entry = DescribeGroupsResponse.DescribedGroup()
            entry.errorCode = group.error.code
            entry.groupId = group.groupID
            entry.groupState = group.state.description
            entry.protocolType = group.protocolType
            entry.protocolData = group.protocolName
            entry.members = group.members.map { member in
                var described = DescribeGroupsResponse.DescribedGroupMember()
                described.memberId = member.memberID
                described.groupInstanceId = member.groupInstanceID
                described.clientId = member.clientID
                described.clientHost = member.clientHost
                described.memberMetadata = member.metadata
                described.memberAssignment = member.assignment
                return described
            }
            return entry
        }
        return response
    }

    func handleListGroups(_ request: ListGroupsRequest, _ context: RequestContext) -> ListGroupsResponse {
        // v4+ may filter by state names (case-insensitive, as Kafka); unknown names match nothing.
        var states: Set<GroupState>?
        if context.version >= 4 && !request.statesFilter.isEmpty {
            let wanted = Set(request.statesFilter.map { $0.lowercased() })
            states = Set(GroupState.allCases.filter { wanted.contains($0.rawValue.lowercased()) })
        }
        var response = ListGroupsResponse()
        if let code = groups.unavailableError {
            response.errorCode = code.rawValue
            return response
        }
        response.groups = groups.list(states: states).map { listing in
            var entry = ListGroupsResponse.ListedGroup()
            entry.groupId = listing.groupID
            entry.protocolType = listing.protocolType
            entry.groupState = listing.state.description
            return entry
        }
        return response
    }

    func handleDeleteGroups(_ request: DeleteGroupsRequest, _ context: RequestContext) async -> DeleteGroupsResponse {
        var response = DeleteGroupsResponse()
        if let code = groups.unavailableError {
            response.results = request.groupsNames.map { groupID in
                var entry = DeleteGroupsResponse.DeletableGroupResult()
                entry.groupId = groupID
                entry.errorCode = code.rawValue
                return entry
            }
            return response
        }
        response.results = await groups.delete(groupIDs: request.groupsNames).map { groupID, error in
            var entry = DeleteGroupsResponse.DeletableGroupResult()
            entry.groupId = groupID
            entry.errorCode = error.code
            return entry
        }
        return response
    }
}
