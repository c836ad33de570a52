import NIOCore
import RunnelLog
import RunnelMetadata
import RunnelWire

/// Fetch: whole batches from each partition's log below the high watermark (consumers) or the log end
/// offset (followers), waiting up to `max_wait_ms` for `min_bytes`, woken by appends and high-watermark
/// moves. Incremental sessions answer only partitions with news.
extension Broker {
    typealias PartitionData = FetchResponse.PartitionData

    func handleFetch(_ request: FetchRequest, _ context: RequestContext) async -> FetchResponse {
        var response = FetchResponse()
        // Resolve what to fetch: the request's partitions, or the session's (KIP-227).
        var session: FetchSessionCache.Session?
        var incremental = false
        let requested = Self.distinctPartitions(request.topics)
        if context.version >= 7 {
            switch (request.sessionId, request.sessionEpoch) {
            case (let id, -1):  // the final epoch: a sessionless full fetch
                if id != 0 { fetchSessions.remove(id: id) }
            case (let id, 0):
                if id != 0 { fetchSessions.remove(id: id) }
                session = fetchSessions.create(partitions: requested)
            case (let id, let epoch):
                switch fetchSessions.lookup(id: id, epoch: epoch) {
                case .notFound:
                    response.errorCode = ErrorCode.fetchSessionIdNotFound.rawValue
                    return response
                case .invalidEpoch:
                    response.errorCode = ErrorCode.invalidFetchSessionEpoch.rawValue
                    return response
                case .found(var found):
                    for (tp, state) in requested {
                        if found.partitions[tp] == nil { found.order.append(tp) }
                        var merged = state
                        merged.lastHighWatermark = found.partitions[tp]?.lastHighWatermark ?? -1
                        merged.lastLogStartOffset = found.partitions[tp]?.lastLogStartOffset ?? -1
                        found.partitions[tp] = merged
                    }
                    // One pass over the session's order, however many partitions are forgotten.
                    var forgotten: Set<TopicPartition> = []
                    for topic in request.forgottenTopicsData {
                        for index in topic.partitions { forgotten.insert(TopicPartition(topic.topic, index)) }
                    }
                    if !forgotten.isEmpty {
                        for tp in forgotten { found.partitions[tp] = nil }
                        found.order.removeAll { forgotten.contains($0) }
                    }
                    session = found
                    incremental = true
                }
            }
            response.sessionId = session?.id ?? 0
        }
        let targets: [(TopicPartition, FetchSessionCache.PartitionState)] = session.map { s in s.order.map { ($0, s.partitions[$0]!) } } ?? requested

        let isFollower = request.replicaId >= 0
        let readCommitted = request.isolationLevel == 1
        let responseBytesMax = Int(min(request.maxBytes > 0 ? request.maxBytes : settings.fetchBytesMax, settings.fetchBytesMax))
        let deadline = nowMs() + Int64(max(request.maxWaitMs, 0))
        var results: [(TopicPartition, PartitionData)] = []
        while true {
            results = readAll(targets, responseBytesMax: responseBytesMax, isFollower: isFollower, readCommitted: readCommitted)
            let bytes = results.reduce(0) { $0 + ($1.1.records?.readableBytes ?? 0) }
            let hasError = results.contains { $0.1.errorCode != 0 }
            let remaining = deadline - nowMs()
            if bytes >= max(Int(request.minBytes), 1) || hasError || remaining <= 0 || targets.isEmpty { break }
            if incremental && results.contains(where: { hasNews($0.1, session?.partitions[$0.0]) }) { break }
            // Park on every partition until one changes or the wait is over.
            let wakeup = Wakeup()
            let watched = targets.compactMap { partitions.partition($0.0) }.filter { $0.watch(wakeup) }
            let before = results.map { $0.1.highWatermark }
            let again = readAll(targets, responseBytesMax: responseBytesMax, isFollower: isFollower, readCommitted: readCommitted)
            if again.map({ $0.1.highWatermark }) != before || again.contains(where: { ($0.1.records?.readableBytes ?? 0) > 0 }) {
                watched.forEach { $0.unwatch(wakeup) }
                continue
            }
            await wakeup.wait(timeoutMs: remaining)
            watched.forEach { $0.unwatch(wakeup) }
        }

        if var current = session {
            if incremental { results = results.filter { hasNews($0.1, current.partitions[$0.0]) } }
            for (tp, data) in results {
                current.partitions[tp]?.lastHighWatermark = data.highWatermark
                current.partitions[tp]?.lastLogStartOffset = data.logStartOffset
            }
            fetchSessions.store(current)
        }
        for (tp, data) in results { metrics.recordFetch(topic: tp.topic, bytes: data.records?.readableBytes ?? 0) }
        var byTopic: [String: [PartitionData]] = [:]
        var topicOrder: [String] = []
        for (tp, data) in results {
            if byTopic[tp.topic] == nil { topicOrder.append(tp.topic) }
            byTopic[tp.topic, default: []].append(data)
        }
        response.responses = topicOrder.map { topic in
            var entry = FetchResponse.FetchableTopicResponse()
            entry.topic = topic
            entry.partitions = byTopic[topic]!
            return entry
        }
        return response
    }

    /// The partitions to fetch, each once: a partition named again keeps its first place and takes the
    /// later values, as Kafka's `FetchRequest.fetchData` (a LinkedHashMap) does.
    static func distinctPartitions(_ topics: [FetchRequest.FetchTopic]) -> [(TopicPartition, FetchSessionCache.PartitionState)] {
        var order: [TopicPartition] = []
        var states: [TopicPartition: FetchSessionCache.PartitionState] = [:]
        for topic in topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.topic, p.partition)
                let state = FetchSessionCache.PartitionState(fetchOffset: p.fetchOffset, maxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch)
                if states.updateValue(state, forKey: tp) == nil { order.append(tp) }
            }
        }
        return order.map { ($0, states[$0]!) }
    }

    /// In an incremental session a partition is sent only when it has records, an error, or moved offsets.
    private func hasNews(_ data: PartitionData, _ previous: FetchSessionCache.PartitionState?) -> Bool {
        guard let previous else { return true }
        return (data.records?.readableBytes ?? 0) > 0 || data.errorCode != 0
            || data.highWatermark != previous.lastHighWatermark || data.logStartOffset != previous.lastLogStartOffset
    }

    private func readAll(_ targets: [(TopicPartition, FetchSessionCache.PartitionState)], responseBytesMax: Int,
                         isFollower: Bool, readCommitted: Bool) -> [(TopicPartition, PartitionData)] {
        var budget = responseBytesMax
        var first = true
        return targets.map { tp, state in
            let data = read(tp, state, budget: budget, minOneBatch: first, isFollower: isFollower, readCommitted: readCommitted)
            let size = data.records?.readableBytes ?? 0
            if size > 0 { first = false }
            budget = max(budget - size, 0)
            return (tp, data)
        }
    }

    private func read(_ tp: TopicPartition, _ state: FetchSessionCache.PartitionState, budget: Int, minOneBatch: Bool,
                      isFollower: Bool, readCommitted: Bool) -> PartitionData {
        var data = PartitionData()
        data.partitionIndex = tp.partition
        data.highWatermark = -1
        data.lastStableOffset = -1
        data.logStartOffset = -1
        data.records = ByteBuffer()  // Kafka sends empty record sets, not null ones
        guard let partition = partitions.partition(tp), !partition.isDeleted else {
            data.errorCode = partitions.absenceError(tp).rawValue
            return data
        }
        if let code = partition.checkLeaderEpoch(state.currentLeaderEpoch) {
            data.errorCode = code.rawValue
            return data
        }
        if !isFollower && !partition.isLeader {
            data.errorCode = ErrorCode.notLeaderOrFollower.rawValue
            return data
        }
        let offsets = partition.log.offsets
        data.highWatermark = offsets.highWatermark
        data.lastStableOffset = offsets.highWatermark  // no transactions yet: the last stable offset is the high watermark
        data.logStartOffset = offsets.logStartOffset
        if readCommitted { data.abortedTransactions = [] }
        guard state.fetchOffset >= offsets.logStartOffset && state.fetchOffset <= offsets.logEndOffset else {
            data.errorCode = ErrorCode.offsetOutOfRange.rawValue
            return data
        }
        let limit = isFollower ? offsets.logEndOffset : offsets.highWatermark
        let maxBytes = min(Int(max(state.maxBytes, 0)), budget)
        guard state.fetchOffset < limit, maxBytes > 0 || minOneBatch else { return data }
        do {
            let result = try partition.log.read(from: state.fetchOffset, maxBytes: maxBytes, upTo: limit, minOneBatch: minOneBatch)
            if result.records.readableBytes > 0 { data.records = result.records }
        } catch {
            data.errorCode = errorCodeAndMessage(error).0.rawValue
        }
        return data
    }
}
