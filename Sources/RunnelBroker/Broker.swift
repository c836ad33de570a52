import CoreMetrics
import Dispatch
import Logging
import NIOCore
import RunnelGroups
import RunnelLog
import RunnelMetadata
import RunnelStorage
import RunnelWire
import Synchronization

/// What the shell does with a request's outcome.
public enum BrokerReply: Sendable {
    /// Send this response frame (header and body, without the size prefix).
    case respond(ByteBuffer)
    /// Send nothing (a produce with acks=0).
    case noResponse
    /// Close the connection (garbage, an unknown API, an unsupported version), as Kafka does.
    case close(reason: String)
    /// The rest of the work (an acks=all wait) runs on; the shell writes its reply in request order.
    case later(Task<BrokerReply, Never>)
}

/// The broker's request handling: decode → ask the core → encode. Metadata changes go through the
/// `MetadataLog` and take effect when applied; partition data goes through `PartitionRegistry`.
public final class Broker: Sendable {
    public let settings: BrokerSettings
    public let identity: NodeIdentity
    let metadata: any MetadataLog
    let controller: Controller
    let partitions: PartitionRegistry
    let fetchSessions: FetchSessionCache
    let producerIds: ProducerIdAllocator
    let groups: GroupCoordinator
    let logger: Logger
    let metrics: BrokerMetrics
    let nowMs: @Sendable () -> Int64
    private let negotiated = Mutex(NegotiatedVersions(entriesMax: Broker.negotiatedEntriesMax))

    /// Opens the data directory (refusing one of another node or cluster), recovers every partition log
    /// and registers this broker's endpoints in the metadata.
    public init(settings: BrokerSettings, fileSystem: any FileSystem, syncScheduler: any SyncScheduling,
                logger: Logger, metricsFactory: MetricsFactory = NOOPMetricsHandler.instance,
                nowMs: @escaping @Sendable () -> Int64) async throws {
        self.settings = settings
        metrics = BrokerMetrics(factory: metricsFactory)
        self.logger = logger
        self.nowMs = nowMs
        var generator = SystemRandomNumberGenerator()
        identity = try NodeIdentity.loadOrCreate(
            fileSystem: fileSystem, directory: settings.dataDirectory, nodeID: settings.nodeID,
            clusterID: settings.clusterID, using: &generator)
        let metadataDirectory = Path.join(settings.dataDirectory, "__meta")
        try fileSystem.createDirectory(metadataDirectory)
        try fileSystem.syncDirectory(settings.dataDirectory)
        metadata = try LocalMetadataLog(fileSystem: fileSystem, directory: metadataDirectory)
        let budget = DescriptorBudget.current()
        let limits = budget.limits(partitionsPerBrokerMax: settings.partitionsPerBrokerMax, topicsMax: settings.topicsMax)
        logger.info("at most \(limits.partitionsPerBrokerMax) partitions on this broker and \(limits.topicsMax) topics in the cluster (\(limits.reason))")
        controller = Controller(defaultPartitions: settings.defaultPartitions, defaultReplicationFactor: settings.defaultReplicationFactor,
                                limits: limits)
        let logs = try LogManager(dataDirectory: settings.dataDirectory, fileSystem: fileSystem, syncScheduler: syncScheduler)
        partitions = PartitionRegistry(logs: logs, nodeID: settings.nodeID, topicDefaults: settings.topicDefaults,
                                       waitersMax: settings.waitersMax, metrics: metrics, logger: logger, nowMs: nowMs)
        fetchSessions = FetchSessionCache(sessionsMax: settings.fetchSessionsMax)
        producerIds = ProducerIdAllocator(metadata: metadata, controller: controller)
        var groupConfig = GroupConfig()
        groupConfig.initialRebalanceDelayMs = settings.groupInitialRebalanceDelayMs
        groupConfig.sessionTimeoutMsMin = settings.groupSessionTimeoutMsMin
        groupConfig.sessionTimeoutMsMax = settings.groupSessionTimeoutMsMax
        groupConfig.offsetsRetentionMs = settings.offsetsRetentionMs
        // Member ids stay unique across restarts without randomness in the core.
        groupConfig.memberIDIncarnation = UInt64(max(nowMs(), 0))
        groups = GroupCoordinator(config: groupConfig, nowMs: nowMs)

        let registration = BrokerRegistration(id: settings.nodeID, directoryID: identity.directoryID, endpoints: settings.advertisedEndpoints)
        _ = try await metadata.submit { image in
            image.brokers[registration.id] == registration ? [] : [.registerBroker(registration)]
        }
        try partitions.reconcile(with: metadata.image)
        let hosted = metadata.image.replicaCount(on: settings.nodeID)
        if hosted > limits.partitionsPerBrokerMax {
            logger.warning("this broker hosts \(hosted) partitions, over its limit of \(limits.partitionsPerBrokerMax): no more are created; raise the file descriptor limit")
        }
        metadata.observe { [partitions, logger] image, _ in
            do { try partitions.reconcile(with: image) } catch {
                logger.critical("applying metadata to the partition logs failed: \(error)")
            }
        }
        // Groups are served only once their state is rebuilt from the offsets topic.
        let offsets = try await ensureOffsetsPartition()
        let records = try Self.readGroupRecords(offsets, logger: logger)
        groups.load(records, writer: groupRecordWriter(offsets))
        logger.info("group coordinator loaded \(records.count) records from \(OffsetsTopic.name)")
        logger.info("broker \(settings.nodeID) of cluster \(identity.clusterID) serving \(partitions.all.count) partitions from \(settings.dataDirectory)")
    }

    /// Brokers that can take replicas now: on one node, this one.
    var liveBrokers: [BrokerID] { Array(metadata.image.brokers.keys) }

    // MARK: Dispatch

    /// Answers one request frame (without its size prefix).
    public func handle(frame: ByteBuffer, listener: String, peer: String) async -> BrokerReply {
        let decoded: DecodedRequest
        let context: RequestContext
        switch admit(frame, listener: listener, peer: peer) {
        case .admitted(let request, let requestContext): (decoded, context) = (request, requestContext)
        case .refused(let reply): return reply
        }
        let header = decoded.header
        let response: KafkaResponse
        switch decoded.request {
        case .apiVersions(let request): response = .apiVersions(apiVersions(request, context))
        case .metadata(let request): response = .metadata(await handleMetadata(request, context))
        case .produce(let request): return produce(request, context)
        case .fetch(let request): response = .fetch(await handleFetch(request, context))
        case .listOffsets(let request): response = .listOffsets(handleListOffsets(request, context))
        case .findCoordinator(let request): response = .findCoordinator(handleFindCoordinator(request, context))
        case .createTopics(let request): response = .createTopics(await handleCreateTopics(request, context))
        case .deleteTopics(let request): response = .deleteTopics(await handleDeleteTopics(request, context))
        case .createPartitions(let request): response = .createPartitions(await handleCreatePartitions(request, context))
        case .deleteRecords(let request): response = .deleteRecords(handleDeleteRecords(request, context))
        case .offsetForLeaderEpoch(let request): response = .offsetForLeaderEpoch(handleOffsetForLeaderEpoch(request, context))
        case .describeConfigs(let request): response = .describeConfigs(handleDescribeConfigs(request, context))
        case .alterConfigs(let request): response = .alterConfigs(await handleAlterConfigs(request, context))
        case .incrementalAlterConfigs(let request): response = .incrementalAlterConfigs(await handleIncrementalAlterConfigs(request, context))
        case .describeCluster(let request): response = .describeCluster(handleDescribeCluster(request, context))
        case .initProducerId(let request): response = .initProducerId(await handleInitProducerId(request, context))
        // Join and sync wait for the rest of the group: they answer later, in request order.
        case .joinGroup(let request):
            return .later(Task { self.encode(.joinGroup(await self.handleJoinGroup(request, context)), header: header) })
        case .syncGroup(let request):
            return .later(Task { self.encode(.syncGroup(await self.handleSyncGroup(request, context)), header: header) })
        case .heartbeat(let request): response = .heartbeat(handleHeartbeat(request, context))
        case .leaveGroup(let request): response = .leaveGroup(await handleLeaveGroup(request, context))
        case .offsetCommit(let request): response = .offsetCommit(await handleOffsetCommit(request, context))
        case .offsetFetch(let request): response = .offsetFetch(handleOffsetFetch(request, context))
        case .describeGroups(let request): response = .describeGroups(handleDescribeGroups(request, context))
        case .listGroups(let request): response = .listGroups(handleListGroups(request, context))
        case .deleteGroups(let request): response = .deleteGroups(await handleDeleteGroups(request, context))
        }
        return encode(response, header: header)
    }

    /// Answers a produce request on the caller's thread (the connection's event loop), sparing the hot
    /// path two thread hops: the append runs here, an acks=all wait comes back as `.later`. Any other
    /// request gives nil and goes to `handle`.
    public func handleImmediately(frame: ByteBuffer, listener: String, peer: String) -> BrokerReply? {
        // The API key is the header's first field: peeked, so that other requests are decoded only once.
        guard frame.getInteger(at: frame.readerIndex, as: Int16.self) == ApiKey.produce.rawValue else { return nil }
        switch admit(frame, listener: listener, peer: peer) {
        case .admitted(let decoded, let context):
            guard case .produce(let request) = decoded.request else { return nil }
            return produce(request, context)
        case .refused(let reply):
            return reply
        }
    }

    private enum Admission {
        case admitted(DecodedRequest, RequestContext)
        /// Ended before any handler sees it: undecodable, or a version not served.
        case refused(BrokerReply)
    }

    /// Decodes a frame and checks that its API version is served.
    private func admit(_ frame: ByteBuffer, listener: String, peer: String) -> Admission {
        let decoded: DecodedRequest
        do {
            decoded = try RequestFrame.decode(payload: frame)
        } catch {
            return .refused(rejected(error, peer: peer))
        }
        let header = decoded.header
        guard let served = ServedApis.byKey[header.apiKey], served.contains(header.apiVersion) else {
            let reason = "\(header.apiKey) v\(header.apiVersion) is not served"
            logger.warning("closing connection from \(peer): \(reason)")
            return .refused(.close(reason: reason))
        }
        noteNegotiated(header)
        return .admitted(decoded, RequestContext(header: header, listener: listener, peer: peer))
    }

    /// Appends at once; answers at once unless acks=all must wait for the high watermark.
    private func produce(_ request: ProduceRequest, _ context: RequestContext) -> BrokerReply {
        let pending = appendProduce(request, context)
        guard pending.needsWait else {
            guard let produced = produceResponse(pending) else { return .noResponse }
            return encode(.produce(produced), header: context.header)
        }
        return .later(Task {
            guard let produced = await self.finishProduce(pending) else { return .noResponse }
            return self.encode(.produce(produced), header: context.header)
        })
    }

    func encode(_ response: KafkaResponse, header: RequestHeader) -> BrokerReply {
        var buffer = ByteBuffer()
        do {
            try ResponseFrame.encode(response, version: header.apiVersion, correlationId: header.correlationId, into: &buffer)
        } catch {
            logger.error("could not encode \(header.apiKey) v\(header.apiVersion) response: \(error)")
            return .close(reason: "response encoding failed")
        }
        buffer.moveReaderIndex(forwardBy: 4)  // the shell writes the size prefix
        return .respond(buffer)
    }

    /// A frame that could not be decoded: ApiVersions of a version we don't know gets error 35 in the v0
    /// format with our ranges (clients then retry with one we know); anything else closes the connection.
    func rejected(_ error: RequestFrameError, peer: String) -> BrokerReply {
        if case .unsupportedVersion(.apiVersions, _, let correlationId) = error {
            var response = ApiVersionsResponse()
            response.errorCode = ErrorCode.unsupportedVersion.rawValue
            response.apiKeys = ServedApis.apiVersionsList
            return encode(.apiVersions(response), header: RequestHeader(apiKey: .apiVersions, apiVersion: 0, correlationId: correlationId, clientId: nil))
        }
        logger.warning("closing connection from \(peer): undecodable request: \(error)")
        return .close(reason: "\(error)")
    }

    /// (client, API, version) entries remembered for the negotiated log line: a few per client
    /// library in use, so 1024 covers any real fleet and costs well under a megabyte.
    static let negotiatedEntriesMax = 1024
    var negotiatedCount: Int { negotiated.withLock { $0.count } }

    /// Logs each (client, API, version) once: which versions the clients negotiated.
    private func noteNegotiated(_ header: RequestHeader) {
        let key = "\(escapedForLog(header.clientId ?? "-")) \(header.apiKey) v\(header.apiVersion)"
        let (isNew, firstForgotten) = negotiated.withLock { $0.insert(key) }
        guard isNew else { return }
        logger.info("negotiated: client \(key)")
        if firstForgotten {
            logger.notice("negotiated: more than \(Broker.negotiatedEntriesMax) client/API/version entries; forgetting the oldest (they are logged again if seen again)")
        }
    }

    // MARK: Background work

    /// Writes checkpoints and applies retention until cancelled.
    public func runMaintenance() async {
        var lastRetentionMs = nowMs()
        var lastCheckpointMs = nowMs()
        var lastCleaningMs = nowMs()
        let tickMs = max(min(settings.checkpointIntervalMs, settings.logCleanerBackoffMs), 1)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(tickMs))
            if nowMs() - lastCheckpointMs >= settings.checkpointIntervalMs {
                lastCheckpointMs = nowMs()
                for partition in partitions.all where !partition.isDeleted {
                    do { try partition.log.writeCheckpoints() } catch { logger.critical("checkpoint of \(partition.topicPartition) failed: \(error)") }
                }
            }
            if nowMs() - lastRetentionMs >= settings.retentionCheckIntervalMs {
                lastRetentionMs = nowMs()
                await offCooperativePool { self.applyRetention() }
            }
            if nowMs() - lastCleaningMs >= settings.logCleanerBackoffMs {
                await offCooperativePool { self.cleanCompactedLogs() }
                lastCleaningMs = nowMs()
            }
        }
    }

    /// Runs `work`, which does blocking file I/O for a while (retention unlinks, cleaning passes), on a
    /// Dispatch thread rather than one of the few threads of the cooperative pool that requests share.
    private func offCooperativePool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                work()
                done.resume()
            }
        }
    }

    /// One cleaning pass over every partition whose cleanup policy includes compact (the offsets topic
    /// too). Each pass is bounded by `settings.cleanerLimits`; what is left waits for the next tick.
    func cleanCompactedLogs() {
        for partition in partitions.all where !partition.isDeleted && partition.settings.cleanupPolicyCompact {
            do {
                let outcome = try partition.log.clean(nowMs: nowMs(), limits: settings.cleanerLimits)
                guard outcome.ran else { continue }
                metrics.recordCleaning(bytesRead: outcome.dirtyBytesRead + outcome.bytesBefore,
                                       bytesRemoved: outcome.bytesBefore - outcome.bytesAfter)
                if outcome.batchesSkipped > 0 {
                    logger.warning("cleaner kept \(outcome.batchesSkipped) batches of \(partition.topicPartition) below offset \(outcome.cleanedUpTo) whole: their records cannot be taken apart")
                }
                logger.debug("cleaned \(partition.topicPartition) up to offset \(outcome.cleanedUpTo): \(outcome.segmentsRewritten) segments, \(outcome.bytesBefore) → \(outcome.bytesAfter) bytes, \(outcome.recordsRemoved) records removed")
            } catch {
                logger.error("cleaning of \(partition.topicPartition) failed: \(error)")
            }
        }
    }

    func applyRetention() {
        for partition in partitions.all where !partition.isDeleted && partition.settings.cleanupPolicyDelete {
            do {
                let outcome = try partition.log.applyRetention(nowMs: nowMs())
                if outcome.deletedSegments > 0 {
                    logger.info("retention deleted \(outcome.deletedSegments) segments (\(outcome.deletedBytes) bytes) of \(partition.topicPartition); log start offset \(outcome.logStartOffset)")
                }
            } catch {
                logger.error("retention of \(partition.topicPartition) failed: \(error)")
            }
        }
    }

    /// Writes final checkpoints and closes every log.
    public func shutdown() {
        groups.stop()
        partitions.closeAll()
    }
}

/// Who asked, for the handlers.
struct RequestContext: Sendable {
    let header: RequestHeader
    let listener: String
    let peer: String
    var version: Int16 { header.apiVersion }
}
