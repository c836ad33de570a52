import ArgumentParser
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import RunnelServer

#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a broker.",
        discussion: """
            Every option can also be set with its RUNNEL_* environment variable (for example --node-id and \
            RUNNEL_NODE_ID); the option wins. SIGTERM or SIGINT shuts the broker down cleanly.
            """)

    @Option(help: "This broker's id (RUNNEL_NODE_ID, default 1).") var nodeId: String?
    @Option(help: "Cluster id (RUNNEL_CLUSTER_ID; default: kept in the data directory).") var clusterId: String?
    @Option(help: "Data directory (RUNNEL_DATA_DIR, default ./runnel-data).") var dataDir: String?
    @Option(help: "Named listeners, NAME://HOST:PORT,... (RUNNEL_LISTENERS, default CLIENT://0.0.0.0:9092).")
    var listeners: String?
    @Option(help: "Addresses clients are told to use, NAME://HOST:PORT,... (RUNNEL_ADVERTISED_LISTENERS).")
    var advertisedListeners: String?
    @Option(help: "One-listener shorthand: HOST:PORT for the CLIENT listener (RUNNEL_KAFKA_LISTENER).")
    var kafkaListener: String?
    @Option(help: "Advertised HOST:PORT for the CLIENT listener (RUNNEL_ADVERTISED_KAFKA_LISTENER).")
    var advertisedKafkaListener: String?
    @Option(help: "HOST:PORT serving Prometheus /metrics, or none (RUNNEL_METRICS_LISTENER, default 0.0.0.0:9644).")
    var metricsListener: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (RUNNEL_LOG_LEVEL, default info).")
    var logLevel: String?
    @Option(help: "Partitions of a topic created without a count (RUNNEL_NUM_PARTITIONS, default 1).")
    var numPartitions: String?
    @Option(help: "Replicas of a topic created without a factor (RUNNEL_DEFAULT_REPLICATION_FACTOR, default 3, capped by live brokers).")
    var defaultReplicationFactor: String?
    @Option(help: "Create topics on first use (RUNNEL_AUTO_CREATE_TOPICS_ENABLE, default true).")
    var autoCreateTopicsEnable: String?
    @Option(help: "Segment size in bytes (RUNNEL_LOG_SEGMENT_BYTES, default 1 GiB).") var logSegmentBytes: String?
    @Option(help: "Retention in ms, -1 forever (RUNNEL_LOG_RETENTION_MS, default 7 days).") var logRetentionMs: String?
    @Option(help: "Min in-sync replicas for acks=all (RUNNEL_MIN_INSYNC_REPLICAS, default 1).") var minInsyncReplicas: String?
    @Option(help: "Largest request frame (RUNNEL_SOCKET_REQUEST_MAX_BYTES, default 100 MiB).") var socketRequestMaxBytes: String?
    @Option(help: "Close connections idle this long (RUNNEL_CONNECTIONS_MAX_IDLE_MS, default 10 min).")
    var connectionsMaxIdleMs: String?
    @Option(help: "Connections accepted at once (RUNNEL_MAX_CONNECTIONS, default 10000).") var maxConnections: String?
    @Option(help: "Requests handled at once per connection (RUNNEL_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, default 100).")
    var maxInFlightRequestsPerConnection: String?
    @Option(help: "Request bytes held at once by all connections, -1 for no limit (RUNNEL_QUEUED_MAX_REQUEST_BYTES, default 256 MiB or the largest request if more).")
    var queuedMaxRequestBytes: String?
    @Option(help: "How long shutdown waits for in-flight requests (RUNNEL_SHUTDOWN_GRACE_MS, default 10000).")
    var shutdownGraceMs: String?
    @Option(help: "Partition replicas this broker hosts at most (RUNNEL_PARTITIONS_PER_BROKER_MAX, default -1: derived from the file descriptor limit).")
    var partitionsPerBrokerMax: String?
    @Option(help: "Topics the cluster holds at most (RUNNEL_TOPICS_MAX, default -1: as many as partitions per broker).")
    var topicsMax: String?
    @OptionGroup(title: "Consumer groups") var groupOptions: GroupServeOptions
    @OptionGroup(title: "Log cleaner") var cleanerOptions: CleanerServeOptions

    var settingFlags: [Setting: String] {
        let pairs: [(Setting, String?)] = [
            (.nodeId, nodeId), (.clusterId, clusterId), (.dataDir, dataDir), (.listeners, listeners),
            (.advertisedListeners, advertisedListeners), (.kafkaListener, kafkaListener),
            (.advertisedKafkaListener, advertisedKafkaListener), (.metricsListener, metricsListener),
            (.logLevel, logLevel), (.numPartitions, numPartitions), (.defaultReplicationFactor, defaultReplicationFactor),
            (.autoCreateTopicsEnable, autoCreateTopicsEnable), (.logSegmentBytes, logSegmentBytes),
            (.logRetentionMs, logRetentionMs), (.minInsyncReplicas, minInsyncReplicas),
            (.socketRequestMaxBytes, socketRequestMaxBytes), (.connectionsMaxIdleMs, connectionsMaxIdleMs),
            (.maxConnections, maxConnections), (.maxInFlightRequestsPerConnection, maxInFlightRequestsPerConnection), (.queuedMaxRequestBytes, queuedMaxRequestBytes),
            (.shutdownGraceMs, shutdownGraceMs), (.partitionsPerBrokerMax, partitionsPerBrokerMax), (.topicsMax, topicsMax),
        ]
        var flags: [Setting: String] = [:]
        for (setting, value) in pairs {
            if let value { flags[setting] = value }
        }
        return flags
    }

    func run() async throws {
        let values = SettingValues(flags: settingFlags, environment: ProcessInfo.processInfo.environment)
        let levelText = values.string(.logLevel, default: "info")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw fail("\(Setting.logLevel.displayName): '\(levelText)' is not one of trace, debug, info, notice, warning, error, critical", code: 2)
        }
        let config: BrokerConfig
        do {
            config = try BrokerConfig.resolve(values, hostName: ProcessInfo.processInfo.hostName)
        } catch {
            throw fail(error.message, code: 2)
        }
        let groupSettings: GroupServeSettings
        do {
            groupSettings = try groupOptions.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw fail(error.message, code: 2)
        }
        let cleanerSettings: CleanerServeSettings
        do {
            cleanerSettings = try cleanerOptions.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw fail(error.message, code: 2)
        }
        Logs.bootstrap(level: level)
        let logger = Logger(label: "runnel")
        let allocator = Allocator.detect()
        logger.info("allocator: \(allocator.summary)")

        let metrics = PrometheusMetricsFactory()
        AllocatorMetrics.register(allocator, on: metrics)
        let handler: any ServedRequestHandler
        do {
            handler = try await makeRequestHandler(config: config, groups: groupSettings, cleaner: cleanerSettings, metrics: metrics, logger: logger)
        } catch {
            logger.critical("cannot start the broker: \(error)")
            throw ExitCode(1)
        }
        let server = Server(config: config.network, handler: handler, metrics: metrics, logger: logger)
        let signals = ShutdownSignals(logger: logger) {
            await server.shutdown()
        }
        defer { signals.cancel() }
        logger.info(
            "starting",
            metadata: [
                "node": "\(config.nodeId)",
                "advertised": "\(config.network.advertisedListeners.map(\.description).joined(separator: ","))",
                "data": "\(config.dataDir)",
            ])
        do {
            try await server.run()
        } catch {
            logger.critical("cannot serve: \(error)")
            await handler.shutdown()
            throw ExitCode(1)
        }
        await handler.shutdown()
        logger.info("stopped")
    }
}

/// SIGTERM and SIGINT start one clean shutdown; a second signal during it exits at once.
final class ShutdownSignals {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, onSignal: @escaping @Sendable () async -> Void) {
        let started = ManagedAtomicFlag()
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if started.setIfUnset() {
                    logger.info("received signal \(number); shutting down")
                    Task { await onSignal() }
                } else {
                    logger.warning("received signal \(number) again; exiting now")
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

import Synchronization

final class ManagedAtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// True for the first caller only.
    func setIfUnset() -> Bool {
        value.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    }
}
