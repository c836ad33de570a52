import ArgumentParser
import RunnelClient
import RunnelWire

struct Topic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, describe and delete topics.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .long], help: "Partition count (default: the broker's).") var partitions: Int32 = -1
        @Option(name: [.short, .customLong("replication-factor")], help: "Replication factor (default: the broker's).")
        var replicationFactor: Int16 = -1
        @Option(name: .customLong("config"), help: "Topic config KEY=VALUE; repeatable.") var configs: [String] = []

        func run() async throws {
            var parsed: [String: String] = [:]
            for entry in configs {
                guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                    throw fail("--config '\(entry)' is not KEY=VALUE", code: 2)
                }
                parsed[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            }
            let topic = KafkaClient.NewTopic(
                name: name, partitionCount: partitions, replicationFactor: replicationFactor, configs: parsed)
            let response = try await withClient(client) { try await $0.createTopics([topic]) }
            guard let result = response.topics.first(where: { $0.name == name }) else {
                throw fail("the broker's answer does not mention \(name)", code: 1)
            }
            if let error = kafkaError(result.errorCode, message: result.errorMessage) {
                throw fail("cannot create \(name): \(error)", code: 1)
            }
            print("created \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topic names.")
        @OptionGroup var client: ClientOptions
        @Flag(help: "Include internal topics.") var all = false

        func run() async throws {
            let response = try await withClient(client) { try await $0.metadata(topics: nil) }
            let names = response.topics.filter { all || !$0.isInternal }.compactMap(\.name).sorted()
            for name in names { print(name) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a topic's partitions, leaders and replicas.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic names (default: all).") var names: [String] = []

        func run() async throws {
            let response = try await withClient(client) { try await $0.metadata(topics: names.isEmpty ? nil : names) }
            var failed = false
            for topic in response.topics.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
                let name = topic.name ?? "?"
                if let error = kafkaError(topic.errorCode) {
                    printError("\(name): \(error)")
                    failed = true
                    continue
                }
                print("\(name)\tpartitions=\(topic.partitions.count)\tid=\(topic.topicId)\(topic.isInternal ? "\tinternal" : "")")
                for partition in topic.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
                    let replicas = partition.replicaNodes.map(String.init).joined(separator: ",")
                    let isr = partition.isrNodes.map(String.init).joined(separator: ",")
                    let error = kafkaError(partition.errorCode).map { "\terror=\($0)" } ?? ""
                    print("\tpartition=\(partition.partitionIndex)\tleader=\(partition.leaderId)\tepoch=\(partition.leaderEpoch)\treplicas=\(replicas)\tisr=\(isr)\(error)")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete topics.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let response = try await withClient(client) { try await $0.deleteTopics(names) }
            var failed = false
            for result in response.responses {
                if let error = kafkaError(result.errorCode) {
                    printError("cannot delete \(result.name): \(error)")
                    failed = true
                } else {
                    print("deleted \(result.name)")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
