import ArgumentParser

@main
struct Runnel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runnel",
        abstract: "A Kafka-compatible streaming broker, and a small client for it.",
        subcommands: [Serve.self, Health.self, Topic.self, Produce.self, Consume.self, GroupCommand.self])
}
