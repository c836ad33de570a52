import Logging
import NIOCore

/// Runs one Kafka connection: takes frames from `FrameDecoder`, passes them to the `RequestHandling`
/// one at a time in request order (on the event loop through `handleImmediately` when it takes them,
/// else through `handle` in a task), and writes the answers back in request order with their size
/// prepended. Answers a handler defers (`.later`) may finish in any order.
///
/// Back-pressure: reads are withheld (the outbound `read` event is held back) while `inFlightMax`
/// requests, or `inFlightBytesMax` bytes of them, are admitted and unanswered, so a client that
/// pipelines without bound is slowed instead of buffered (and a stall does not fill memory). Frames
/// already decoded from the last read wait in `backlog`, which is bounded by one read's bytes.
/// Reads are also withheld, and no further request is handled, while the channel is not writable: its
/// unsent answers are over the write buffer's high watermark (`unsentResponseBytesPerConnectionMax`),
/// so a client that pipelines fetches and never reads them holds at most that plus the answers of
/// the requests already being handled. Both resume when the socket has taken the answers.
/// With a broker-wide request budget, `RequestMemoryGate` (before the decoder) charges each frame
/// when its size arrives; `account` gets the bytes back when the request is answered.
/// Closing: on idle (nothing in flight), on a framing error (one warning line), or when asked to
/// quiesce (after the in-flight answers have been written).
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case open
        /// Shutting down: no new requests; close once the in-flight ones are answered.
        case draining
        case closed
    }

    private let handler: any RequestHandling
    private let listenerName: String
    private let connectionId: UInt64
    private let metrics: ServerMetrics?
    private let account: RequestBytesAccount?
    private var logger: Logger
    private var sequencer: ResponseSequencer<Outgoing>
    private var backlog = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// Admitted (numbered) and waiting for their turn at `handle`.
    private var admitted = CircularBuffer<(sequence: UInt64, frame: ByteBuffer)>(initialCapacity: 4)
    /// A `handle` call is running; the next starts when it returns.
    private var handling = false
    private var readHeldBack = false
    private var phase = Phase.open
    private var requestContext: RequestContext?
    private let idleTimeout: TimeAmount
    /// Last read or write, on the event loop's clock (virtual in tests).
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var idleCheck: Scheduled<Void>?

    init(
        handler: any RequestHandling, listenerName: String, connectionId: UInt64, inFlightMax: Int,
        inFlightBytesMax: Int = .max, idleMs: Int64, account: RequestBytesAccount? = nil, metrics: ServerMetrics?,
        logger: Logger
    ) {
        precondition(idleMs > 0, "idle timeout must be positive")
        self.idleTimeout = .milliseconds(idleMs)
        self.handler = handler
        self.listenerName = listenerName
        self.connectionId = connectionId
        self.metrics = metrics
        self.account = account
        self.logger = logger
        self.logger[metadataKey: "connection"] = "\(connectionId)"
        self.sequencer = ResponseSequencer(inFlightMax: inFlightMax, inFlightBytesMax: inFlightBytesMax)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            makeRequestContext(context: context)
            startIdleChecks(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        makeRequestContext(context: context)
        startIdleChecks(context: context)
        context.fireChannelActive()
    }

    private func makeRequestContext(context: ChannelHandlerContext) {
        guard requestContext == nil else { return }
        let peer = context.channel.remoteAddress.map(formatAddress) ?? "unknown"
        requestContext = RequestContext(listenerName: listenerName, peerAddress: peer, connectionId: connectionId)
        logger[metadataKey: "peer"] = "\(peer)"
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        backlog.removeAll()
        admitted.removeAll()
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    // MARK: Requests in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        metrics?.bytesIn.increment(by: 4 + frame.readableBytes)
        lastActivity = context.eventLoop.now
        guard phase == .open else { return }
        backlog.append(frame)
        admitFromBacklog(context: context)
    }

    private func admitFromBacklog(context: ChannelHandlerContext) {
        while phase == .open, let frame = backlog.first, sequencer.canAdmit(bytes: frame.readableBytes) {
            backlog.removeFirst()
            admitted.append((sequencer.admit(bytes: frame.readableBytes), frame))
        }
        startNextIfIdle(context: context)
    }

    /// Calls `handle` for the oldest admitted request unless a call is already running.
    private func startNextIfIdle(context: ChannelHandlerContext) {
        // Not while the answers already made cannot leave: each request may add one more.
        guard !handling, phase != .closed, context.channel.isWritable, let (sequence, frame) = admitted.popFirst() else { return }
        makeRequestContext(context: context)
        guard let requestContext else { preconditionFailure("request context is set before any read") }
        handling = true
        // The API key is the header's first field; peeked only to label metrics.
        let apiKey = frame.getInteger(at: frame.readerIndex, as: Int16.self) ?? -1
        let requestBytes = 4 + frame.readableBytes
        let started = NIODeadline.now()
        let handler = self.handler
        if let outcome = handler.handleImmediately(frame, context: requestContext) {
            handling = false
            settle(sequence, outcome: outcome, requestBytes: requestBytes, apiKey: apiKey, started: started, context: context)
            startNextIfIdle(context: context)
            return
        }
        let returned = context.eventLoop.makePromise(of: RequestOutcome.self)
        returned.completeWithTask {
            await handler.handle(frame, context: requestContext)
        }
        returned.futureResult.assumeIsolated().whenComplete { result in
            self.handling = false
            let outcome: RequestOutcome
            switch result {
            case .success(let value): outcome = value
            case .failure(let error): outcome = .closeConnection(reason: "request task failed: \(error)")  // handle() cannot throw
            }
            self.settle(sequence, outcome: outcome, requestBytes: requestBytes, apiKey: apiKey, started: started, context: context)
            self.startNextIfIdle(context: context)
        }
    }

    /// Records a request's outcome, first waiting for a deferred one.
    private func settle(
        _ sequence: UInt64, outcome: RequestOutcome, requestBytes: Int, apiKey: Int16, started: NIODeadline,
        context: ChannelHandlerContext
    ) {
        let response: Outgoing?
        switch outcome {
        case .respond(let frame): response = .frame(frame)
        case .noResponse: response = nil
        case .closeConnection(let reason): response = .close(reason: reason)
        case .later(let task):
            let promise = context.eventLoop.makePromise(of: RequestOutcome.self)
            promise.completeWithTask { await task.value }
            promise.futureResult.assumeIsolated().whenComplete { result in
                let final: RequestOutcome
                switch result {
                case .success(.later): final = .closeConnection(reason: "a deferred answer deferred again")
                case .success(let value): final = value
                case .failure(let error): final = .closeConnection(reason: "request task failed: \(error)")
                }
                self.settle(sequence, outcome: final, requestBytes: requestBytes, apiKey: apiKey, started: started, context: context)
            }
            return
        }
        metrics?.recordRequest(apiKey: apiKey, durationNanoseconds: (NIODeadline.now() - started).nanoseconds)
        // The request is done with (its answer, if any, is a buffer of its own): its bytes go back to
        // the broker-wide budget now, in whatever order requests finish.
        account?.release(requestBytes)
        finished(sequence, response: response, context: context)
    }

    // MARK: Responses out

    private func finished(_ sequence: UInt64, response: Outgoing?, context: ChannelHandlerContext) {
        let released = sequencer.complete(sequence, response: response)
        if phase != .closed, !released.isEmpty {
            for outgoing in released {
                guard case .frame(let frame) = outgoing else {
                    if case .close(let reason) = outgoing {
                        logger.info("closing connection from \(requestContext?.peerAddress ?? "unknown"): \(reason)")
                    }
                    // Answers to earlier requests were written above; later ones are dropped.
                    context.flush()
                    backlog.removeAll()
                    admitted.removeAll()
                    closeAfterPendingWrites(context: context)
                    return
                }
                precondition(frame.readableBytes <= Int(Int32.max), "a response larger than a frame can say")
                var sizePrefix = context.channel.allocator.buffer(capacity: 4)
                sizePrefix.writeInteger(Int32(frame.readableBytes))
                // Two buffers, one flush: the socket gathers them in one writev.
                context.write(wrapOutboundOut(sizePrefix), promise: nil)
                context.write(wrapOutboundOut(frame), promise: nil)
                metrics?.bytesOut.increment(by: 4 + frame.readableBytes)
            }
            context.flush()
            lastActivity = context.eventLoop.now
        }
        switch phase {
        case .open:
            admitFromBacklog(context: context)
            resumeReadingIfHeldBack(context: context)
        case .draining:
            if sequencer.inFlight == 0 {
                closeAfterPendingWrites(context: context)
            }
        case .closed:
            break
        }
    }

    private func resumeReadingIfHeldBack(context: ChannelHandlerContext) {
        if readHeldBack, backlog.isEmpty, sequencer.canAdmit, context.channel.isWritable {
            readHeldBack = false
            context.read()
        }
    }

    /// The socket stopped or started taking what is written: NIO's write buffer watermarks.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            lastActivity = context.eventLoop.now  // the client read its answers
            if phase != .closed {
                admitFromBacklog(context: context)
            }
            if phase == .open {
                resumeReadingIfHeldBack(context: context)
            }
        } else if phase != .closed {
            lastActivity = context.eventLoop.now
            metrics?.unsentResponsesOverBound.increment()
            logger.debug("the client is not reading its answers; reading its requests paused until it does")
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        switch phase {
        case .open where backlog.isEmpty && sequencer.canAdmit && context.channel.isWritable:
            context.read()
        case .open:
            readHeldBack = true
        case .draining, .closed:
            break  // no new requests once draining
        }
    }

    // MARK: Closing

    /// `connections.max.idle.ms`. Own timer rather than `IdleStateHandler`, which reads the wall clock
    /// and so cannot be driven by a test's virtual clock.
    private func startIdleChecks(context: ChannelHandlerContext) {
        guard idleCheck == nil, phase == .open else { return }
        lastActivity = context.eventLoop.now
        scheduleIdleCheck(context: context, at: lastActivity + idleTimeout)
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.checkIdle(context: context)
        }
    }

    private func checkIdle(context: ChannelHandlerContext) {
        idleCheck = nil
        guard phase == .open else { return }
        let now = context.eventLoop.now
        let idleFrom = lastActivity + idleTimeout
        // A long-polling fetch is not idleness: only close when nothing is owed to the client, or when
        // what is owed has not left for the whole timeout because the client does not read.
        if now >= idleFrom, sequencer.inFlight == 0, backlog.isEmpty {
            logger.debug("closing idle connection")
            phase = .closed
            context.close(promise: nil)
            return
        }
        if now >= idleFrom, !context.channel.isWritable {
            logger.info("closing connection from \(requestContext?.peerAddress ?? "unknown"): its answers went unread for \(idleTimeout.nanoseconds / 1_000_000) ms")
            phase = .closed
            context.close(promise: nil)
            return
        }
        scheduleIdleCheck(context: context, at: max(idleFrom, now + idleTimeout))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            guard phase == .open else { return }
            phase = .draining
            backlog.removeAll()
            if sequencer.inFlight == 0 {
                closeAfterPendingWrites(context: context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func closeAfterPendingWrites(context: ChannelHandlerContext) {
        phase = .closed
        // An empty write is ordered after every earlier write, so closing on its completion loses no answer.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? FrameError {
            metrics?.framingErrors.increment()
            logger.warning("closing connection from \(requestContext?.peerAddress ?? "unknown"): \(frameError)")
        } else {
            logger.debug("closing connection after error: \(error)")
        }
        phase = .closed
        backlog.removeAll()
        admitted.removeAll()
        context.close(promise: nil)
    }
}

/// What one finished request leaves for the connection to do, in request order.
enum Outgoing {
    case frame(ByteBuffer)
    case close(reason: String)
}

/// `host:port`, with IPv6 hosts in brackets.
func formatAddress(_ address: SocketAddress) -> String {
    switch address {
    case .v4(let v4):
        return "\(address.ipAddress ?? v4.host):\(address.port ?? 0)"
    case .v6:
        return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
    case .unixDomainSocket:
        return address.pathname ?? "unix"
    }
}
