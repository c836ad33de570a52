import RunnelWire

/// InitProducerId for idempotent (non-transactional) producers: a fresh producer id at epoch 0. A
/// producer that asks with its current id and epoch (v3+, KIP-360, after a sequence problem) also gets a
/// fresh id, as Kafka answers producers without a transactional id: no coordinator state ties them to
/// the old one, and a new id restarts every partition's sequence at 0 just as a bumped epoch would.
extension Broker {
    func handleInitProducerId(_ request: InitProducerIdRequest, _ context: RequestContext) async -> InitProducerIdResponse {
        var response = InitProducerIdResponse()
        response.producerId = -1
        response.producerEpoch = -1
        if let transactionalId = request.transactionalId, !transactionalId.isEmpty {
            // Fatal in every client, with a message naming the cause (a retriable code would spin forever).
            response.errorCode = ErrorCode.transactionalIdAuthorizationFailed.rawValue
            logger.info("refused InitProducerId for transactional id \(escapedForLog(transactionalId)) from \(context.peer): transactions are not supported")
            return response
        }
        do {
            response.producerId = try await producerIds.allocate()
            response.producerEpoch = 0
        } catch {
            logger.error("allocating a producer id block failed: \(error)")
            response.errorCode = ErrorCode.unknownServerError.rawValue
        }
        return response
    }
}
