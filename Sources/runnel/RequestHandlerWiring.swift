import CoreMetrics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import RunnelBroker
import RunnelMetadata
import RunnelServer
import RunnelStorage

/// What `serve` runs behind the network shell: something that answers requests and can be stopped
/// once the shell has drained its connections.
protocol ServedRequestHandler: RequestHandling {
    func shutdown() async
}

/// The seam between the network shell and the broker: opens the data directory, recovers the logs,
/// starts the broker's background work.
func makeRequestHandler(
    config: BrokerConfig, groups: GroupServeSettings, cleaner: CleanerServeSettings = CleanerServeSettings(),
    metrics: PrometheusMetricsFactory, logger: Logger
) async throws -> any ServedRequestHandler {
    try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
    let fsyncPass = CoreMetrics.Timer(label: "runnel_fsync_pass_duration_seconds", factory: metrics)
    let syncScheduler = FsyncScheduler(
        onFailure: { error in
            // Never retried, never ignored: the page cache may have dropped the data, so the broker stops.
            logger.critical("fsync failed; stopping, the log can no longer be made durable: \(error)")
            exit(70)
        },
        onPass: { durationNanoseconds, _, _ in fsyncPass.recordNanoseconds(durationNanoseconds) })
    do {
        var settings = BrokerSettings(config)
        groups.apply(to: &settings)
        cleaner.apply(to: &settings)
        let broker = try await Broker(
            settings: settings, fileSystem: PosixFileSystem(), syncScheduler: syncScheduler,
            logger: logger, metricsFactory: metrics,
            nowMs: { Int64(Date().timeIntervalSince1970 * 1000) })
        return BrokerRequestHandler(broker: broker, syncScheduler: syncScheduler)
    } catch {
        syncScheduler.shutdown()
        throw error
    }
}

extension BrokerSettings {
    /// The broker's view of the command-line configuration.
    init(_ config: BrokerConfig) {
        self.init(
            nodeID: config.nodeId, clusterID: config.clusterId, dataDirectory: config.dataDir,
            advertisedEndpoints: config.network.advertisedListeners.map {
                Endpoint(listener: $0.name, host: $0.host, port: Int32($0.port))
            })
        let topics = config.topicDefaults
        defaultPartitions = topics.partitionCount
        defaultReplicationFactor = topics.replicationFactor
        autoCreateTopics = topics.autoCreateTopics
        // Kafka's broker config names: the synonyms DescribeConfigs reports for topic settings.
        topicDefaults["log.segment.bytes"] = String(topics.segmentBytes)
        topicDefaults["log.retention.ms"] = String(topics.retentionMs)
        topicDefaults["min.insync.replicas"] = String(topics.minInsyncReplicas)
        partitionsPerBrokerMax = config.partitionsPerBrokerMax
        topicsMax = config.topicsMax
    }
}

/// Carries requests from the shell to the broker and its answers back; owns the broker's background
/// work and the fsync thread.
final class BrokerRequestHandler: ServedRequestHandler {
    let broker: Broker
    let syncScheduler: FsyncScheduler
    let maintenance: Task<Void, Never>

    init(broker: Broker, syncScheduler: FsyncScheduler) {
        self.broker = broker
        self.syncScheduler = syncScheduler
        self.maintenance = Task { await broker.runMaintenance() }
    }

    func handle(_ frame: ByteBuffer, context: RequestContext) async -> RequestOutcome {
        Self.outcome(await broker.handle(frame: frame, listener: context.listenerName, peer: context.peerAddress))
    }

    func handleImmediately(_ frame: ByteBuffer, context: RequestContext) -> RequestOutcome? {
        broker.handleImmediately(frame: frame, listener: context.listenerName, peer: context.peerAddress).map(Self.outcome)
    }

    static func outcome(_ reply: BrokerReply) -> RequestOutcome {
        switch reply {
        case .respond(let response): return .respond(response)
        case .noResponse: return .noResponse
        case .close(let reason): return .closeConnection(reason: reason)
        case .later(let task): return .later(Task { outcome(await task.value) })
        }
    }

    /// After the shell has drained: stop background work, write final checkpoints, stop fsyncs.
    func shutdown() async {
        maintenance.cancel()
        await maintenance.value
        broker.shutdown()
        syncScheduler.shutdown()
    }
}
