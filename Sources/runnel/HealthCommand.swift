import ArgumentParser
import RunnelClient

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 when the broker answers ApiVersions, 1 otherwise.")

    @Option(name: [.short, .long], help: "Broker HOST:PORT.")
    var bootstrap: String = "127.0.0.1:9092"

    @Option(help: "Give up after this many ms.")
    var timeoutMs: Int64 = 2_000

    func run() async throws {
        do {
            let client = try await KafkaClient.connect(
                bootstrap: bootstrap,
                options: KafkaClient.Options(clientId: "runnel-health", requestTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs))
            await client.close()
            print("ok: \(bootstrap) answers ApiVersions (\(client.brokerVersions.count) APIs)")
        } catch {
            throw fail("\(bootstrap) is not healthy: \(error)", code: 1)
        }
    }
}
