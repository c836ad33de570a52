import ArgumentParser
import RunnelClient
import RunnelWire

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "List and describe consumer groups.",
        subcommands: [List.self, Describe.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List groups: state, protocol type, assignor and member count, one line each.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let lines = try await withClient(client) { client in
                let (groups, errors) = try await client.listGroups()
                for (nodeId, code) in errors.sorted(by: { $0.key < $1.key }) {
                    printError("broker \(nodeId) could not list its groups: \(code)")
                }
                var lines: [String] = []
                for group in groups {
                    let described = try await client.describeGroup(group.groupId)
                    let type = group.protocolType.isEmpty ? "-" : group.protocolType
                    let assignor = described.protocolData.isEmpty ? "-" : described.protocolData
                    lines.append(
                        "\(group.groupId)\tstate=\(group.groupState)\ttype=\(type)\tprotocol=\(assignor)\tmembers=\(described.members.count)")
                }
                return (lines, errors.isEmpty)
            }
            lines.0.forEach { print($0) }
            if !lines.1 { throw ExitCode(1) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a group's members with their assigned partitions, and per partition the committed offset, log end offset and lag.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Group id.") var group: String

        func run() async throws {
            let report = try await withClient(client) { client in try await GroupReport.load(group: group, client: client) }
            if let error = report.error { throw fail("cannot describe group \(group): \(error)", code: 1) }
            if report.isMissing { throw fail("group \(group) does not exist", code: 1) }
            report.lines.forEach { print($0) }
        }
    }
}

/// What `group describe` prints, gathered from DescribeGroups, OffsetFetch and ListOffsets.
struct GroupReport {
    var described: DescribeGroupsResponse.DescribedGroup
    /// Member id → its partitions, decoded from the consumer protocol's assignment bytes (nil: not decodable).
    var assignments: [String: ConsumerAssignment?]
    var committed: [PartitionKey: Int64]
    var logEnds: [PartitionKey: Int64]
    var error: String?

    struct PartitionKey: Hashable, Comparable {
        let topic: String
        let partition: Int32
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition) }
        var description: String { "\(topic)-\(partition)" }
    }

    /// Kafka answers an unknown group as Dead with no members; with no offsets either, it does not exist.
    var isMissing: Bool { described.groupState == "Dead" && committed.isEmpty }

    static func load(group: String, client: KafkaClient) async throws -> GroupReport {
        let described = try await client.describeGroup(group)
        var report = GroupReport(described: described, assignments: [:], committed: [:], logEnds: [:])
        if let error = kafkaError(described.errorCode) {
            report.error = error
            return report
        }
        for member in described.members {
            // Only the consumer protocol's bytes have a known layout (Connect and others differ).
            report.assignments[member.memberId] = described.protocolType == "consumer" ? ConsumerAssignment.decode(member.memberAssignment) : nil
        }
        let offsets = try await client.committedOffsets(group: group)
        if let error = kafkaError(offsets.errorCode) {
            report.error = error
            return report
        }
        for topic in offsets.topics {
            for partition in topic.partitions where partition.errorCode == 0 && partition.committedOffset >= 0 {
                report.committed[PartitionKey(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
            }
        }
        for key in report.partitions {
            let answer = try await client.listOffsets(topic: key.topic, partition: key.partition, spec: .latest)
            if answer.errorCode == 0 { report.logEnds[key] = answer.offset }
        }
        return report
    }

    /// Partitions assigned to a member or committed, sorted.
    var partitions: [PartitionKey] {
        var keys = Set(committed.keys)
        for case let assignment? in assignments.values {
            for (topic, indexes) in assignment.partitions {
                for partition in indexes { keys.insert(PartitionKey(topic: topic, partition: partition)) }
            }
        }
        return keys.sorted()
    }

    var owners: [PartitionKey: String] {
        var owners: [PartitionKey: String] = [:]
        for (memberID, assignment) in assignments {
            guard let assignment else { continue }
            for (topic, indexes) in assignment.partitions {
                for partition in indexes { owners[PartitionKey(topic: topic, partition: partition)] = memberID }
            }
        }
        return owners
    }

    var lines: [String] {
        let type = described.protocolType.isEmpty ? "-" : described.protocolType
        let assignor = described.protocolData.isEmpty ? "-" : described.protocolData
        var lines = ["\(described.groupId)\tstate=\(described.groupState)\ttype=\(type)\tprotocol=\(assignor)\tmembers=\(described.members.count)"]
        for member in described.members.sorted(by: { $0.memberId < $1.memberId }) {
            let assigned: String
            switch assignments[member.memberId] {
            case .some(.some(let assignment)):
                let keys = assignment.partitions.flatMap { entry in entry.partitions.map { PartitionKey(topic: entry.topic, partition: $0) } }
                assigned = keys.isEmpty ? "-" : keys.sorted().map(\.description).joined(separator: ",")
            default:
                assigned = "?"  // bytes of another protocol, or not decodable
            }
            lines.append(
                "\tmember=\(member.memberId)\tinstance=\(member.groupInstanceId ?? "-")\tclient=\(member.clientId)\thost=\(member.clientHost)\tassigned=\(assigned)")
        }
        let owners = self.owners
        for key in partitions {
            let committed = self.committed[key]
            let end = logEnds[key]
            let lag = committed.flatMap { committed in end.map { max($0 - committed, 0) } }
            lines.append(
                "\ttopic=\(key.topic)\tpartition=\(key.partition)\tcommitted=\(committed.map(String.init) ?? "-")\tend=\(end.map(String.init) ?? "-")\tlag=\(lag.map(String.init) ?? "-")\tmember=\(owners[key] ?? "-")")
        }
        return lines
    }
}
