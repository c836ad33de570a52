import RunnelWire

/// Consumer group administration: find a group's coordinator, list groups, describe them, read their
/// committed offsets. Group requests go to the group's coordinator, ListGroups to every broker.
extension KafkaClient {
    /// The coordinator's node id for `group`, its address learnt for routing.
    public func findCoordinator(group: String) async throws(ClientError) -> Int32 {
        let version = try version(for: FindCoordinatorRequest.self)
        var request = FindCoordinatorRequest()
        request.keyType = 0  // a group
        // v4 batches keys; older versions take one.
        if version >= 4 { request.coordinatorKeys = [group] } else { request.key = group }
        let response = try await send(request, on: try await connection(toNode: try await anyBrokerId()))
        let (code, nodeId, host, port): (Int16, Int32, String, Int32)
        if version >= 4 {
            guard let entry = response.coordinators.first(where: { $0.key == group }) else {
                throw .coordinatorError(group: group, .unknownServerError)
            }
            (code, nodeId, host, port) = (entry.errorCode, entry.nodeId, entry.host, entry.port)
        } else {
            (code, nodeId, host, port) = (response.errorCode, response.nodeId, response.host, response.port)
        }
        guard code == 0 else { throw .coordinatorError(group: group, ErrorCode(rawValue: code)) }
        learn(broker: nodeId, host: host, port: Int(port))
        return nodeId
    }

    /// Every group of every broker (a group lives on its coordinator only), sorted by id; a broker's
    /// error comes back in `errors` by node id.
    public func listGroups() async throws(ClientError) -> (groups: [ListGroupsResponse.ListedGroup], errors: [Int32: ErrorCode]) {
        let brokers = try await metadata(topics: []).brokers.map(\.nodeId).sorted()
        var groups: [ListGroupsResponse.ListedGroup] = []
        var errors: [Int32: ErrorCode] = [:]
        for nodeId in brokers {
            let response = try await send(ListGroupsRequest(), on: try await connection(toNode: nodeId))
            if response.errorCode != 0 { errors[nodeId] = ErrorCode(rawValue: response.errorCode) }
            groups += response.groups
        }
        return (groups.sorted { $0.groupId < $1.groupId }, errors)
    }

    /// DescribeGroups for one group, sent to its coordinator.
    public func describeGroup(_ group: String) async throws(ClientError) -> DescribeGroupsResponse.DescribedGroup {
        let coordinator = try await connection(toNode: try await findCoordinator(group: group))
        var request = DescribeGroupsRequest()
        request.groups = [group]
        let response = try await send(request, on: coordinator)
        guard let described = response.groups.first(where: { $0.groupId == group }) else {
            var missing = DescribeGroupsResponse.DescribedGroup()
            missing.groupId = group
            missing.errorCode = ErrorCode.unknownServerError.rawValue
            return missing
        }
        return described
    }

    /// Every committed offset of `group` (OffsetFetch with a null topic list), from its coordinator.
    public func committedOffsets(group: String) async throws(ClientError) -> OffsetFetchResponse {
        let coordinator = try await connection(toNode: try await findCoordinator(group: group))
        var request = OffsetFetchRequest()
        request.groupId = group
        request.topics = nil
        return try await send(request, on: coordinator)
    }

    /// A broker to ask for cluster-wide things: the first the metadata names.
    private func anyBrokerId() async throws(ClientError) -> Int32 {
        guard let first = try await metadata(topics: []).brokers.map(\.nodeId).min() else { throw .connectionClosed }
        return first
    }
}
