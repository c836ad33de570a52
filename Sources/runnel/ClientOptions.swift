import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RunnelClient
import RunnelWire

struct ClientOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Broker HOST:PORT (RUNNEL_BOOTSTRAP, default 127.0.0.1:9092).")
    var bootstrap: String?

    @Option(help: "Request timeout in ms.")
    var timeoutMs: Int64 = 30_000

    var bootstrapAddress: String {
        if let bootstrap { return bootstrap }
        if let env = ProcessInfo.processInfo.environment["RUNNEL_BOOTSTRAP"], !env.isEmpty { return env }
        return "127.0.0.1:9092"
    }

    func connect() async throws -> KafkaClient {
        do {
            return try await KafkaClient.connect(
                bootstrap: bootstrapAddress,
                options: KafkaClient.Options(requestTimeoutMs: timeoutMs, connectTimeoutMs: min(timeoutMs, 10_000)))
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}

/// `NAME(code)` for a non-zero Kafka error code, nil for success.
func kafkaError(_ code: Int16, message: String? = nil) -> String? {
    guard code != 0 else { return nil }
    let described = "\(ErrorCode(rawValue: code))"
    if let message, !message.isEmpty { return "\(described): \(message)" }
    return described
}

/// Runs `body` with a connected client and closes it afterwards; client errors exit 1.
func withClient<T>(_ options: ClientOptions, _ body: (KafkaClient) async throws -> T) async throws -> T {
    let client = try await options.connect()
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch let error as ClientError {
        await client.close()
        throw fail("\(error)", code: 1)
    } catch {
        await client.close()
        throw error
    }
}
