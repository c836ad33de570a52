import NIOCore
import NIOPosix
import RunnelWire
import Synchronization

/// One TCP connection to one broker: sends size-prefixed request frames and matches answers by
/// correlation id. Many requests may be outstanding; each has its own timeout.
public final class KafkaConnection: Sendable {
    public let address: String
    private let channel: Channel
    private let nextCorrelationId = Atomic<Int32>(1)

    /// Responses above this are refused, as a broker refuses oversized requests.
    public static let responseBytesMax = 256 * 1024 * 1024
    public static let pendingRequestsMax = 1000

    private init(address: String, channel: Channel) {
        self.address = address
        self.channel = channel
    }

    public static func connect(
        host: String, port: Int, timeoutMs: Int64 = 10_000,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ClientError) -> KafkaConnection {
        let address = "\(host):\(port)"
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(timeoutMs))
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)  // SOL_TCP; at SOL_SOCKET option 1 is SO_DEBUG
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ResponseFrameDecoder()), ResponseMatcher())
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return KafkaConnection(address: address, channel: channel)
        } catch {
            throw .connectFailed(address: address, reason: "\(error)")
        }
    }

    /// Sends `request` and waits for its response.
    public func send<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, clientId: String?, timeoutMs: Int64
    ) async throws(ClientError) -> Request.Response {
        guard let payload = try await sendFrame(request, version: version, clientId: clientId, expectsResponse: true, timeoutMs: timeoutMs)
        else { throw .badResponseFrame("missing response") }
        do {
            return try ResponseFrame.decode(Request.Response.self, version: version, payload: payload).message
        } catch {
            throw .decoding(api: "\(Request.apiKey)", error)
        }
    }

    /// Sends `request` and returns once it is written: for a produce with acks=0, which gets no answer.
    public func sendWithoutResponse<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, clientId: String?, timeoutMs: Int64
    ) async throws(ClientError) {
        _ = try await sendFrame(request, version: version, clientId: clientId, expectsResponse: false, timeoutMs: timeoutMs)
    }

    private func sendFrame<Request: KafkaRequestMessage>(
        _ request: Request, version: Int16, clientId: String?, expectsResponse: Bool, timeoutMs: Int64
    ) async throws(ClientError) -> ByteBuffer? {
        let correlationId = nextCorrelationId.wrappingAdd(1, ordering: .relaxed).oldValue & Int32.max
        var frame = channel.allocator.buffer(capacity: 256)
        do {
            try RequestFrame.encode(request, version: version, correlationId: correlationId, clientId: clientId, into: &frame)
        } catch {
            throw .encoding(error)
        }
        let promise = channel.eventLoop.makePromise(of: ByteBuffer?.self)
        let pending = PendingRequest(
            frame: frame, correlationId: correlationId, expectsResponse: expectsResponse,
            api: "\(Request.apiKey)", timeoutMs: timeoutMs, promise: promise)
        channel.writeAndFlush(pending).cascadeFailure(to: promise)
        do {
            return try await promise.futureResult.get()
        } catch let error as ClientError {
            throw error
        } catch {
            throw .connectionClosed
        }
    }

    public func close() async {
        try? await channel.close()
    }
}

struct PendingRequest: Sendable {
    let frame: ByteBuffer
    let correlationId: Int32
    let expectsResponse: Bool
    let api: String
    let timeoutMs: Int64
    let promise: EventLoopPromise<ByteBuffer?>
}

/// Size-prefixed frames in, payloads out.
struct ResponseFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        do {
            return try buffer.readKafkaFrame(maxBytes: KafkaConnection.responseBytesMax)
        } catch {
            throw ClientError.badResponseFrame("\(error)")
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// Keeps the promises of requests in flight by correlation id and completes them as answers arrive.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private var pending: [Int32: (promise: EventLoopPromise<ByteBuffer?>, timeout: Scheduled<Void>)] = [:]

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard request.expectsResponse else {
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { result in
                request.promise.completeWith(result.map { nil })
            }
            context.write(wrapOutboundOut(request.frame), promise: written)
            return
        }
        guard pending.count < KafkaConnection.pendingRequestsMax else {
            request.promise.fail(ClientError.tooManyPendingRequests(limit: KafkaConnection.pendingRequestsMax))
            promise?.succeed()
            return
        }
        let id = request.correlationId
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(request.timeoutMs)) {
            if let entry = self.pending.removeValue(forKey: id) {
                entry.promise.fail(ClientError.timedOut(api: request.api, timeoutMs: request.timeoutMs))
            }
        }
        pending[id] = (request.promise, timeout)
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        guard let id = ResponseFrame.correlationId(of: payload) else {
            context.fireErrorCaught(ClientError.badResponseFrame("shorter than a correlation id"))
            return
        }
        // An answer to a request that already timed out is dropped.
        if let entry = pending.removeValue(forKey: id) {
            entry.timeout.cancel()
            entry.promise.succeed(payload)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ClientError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let entries = pending
        pending = [:]
        for entry in entries.values {
            entry.timeout.cancel()
            entry.promise.fail(error)
        }
    }
}
