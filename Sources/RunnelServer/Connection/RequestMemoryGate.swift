import NIOCore

/// One connection's share of the broker-wide `RequestMemoryPool`: what it reserved and has not
/// released yet. Used on the connection's event loop only, by `RequestMemoryGate` (which reserves a
/// frame's bytes when its size arrives) and `ConnectionHandler` (which releases them once the request
/// is answered); whatever is left is released when the connection closes.
final class RequestBytesAccount {
    let pool: RequestMemoryPool
    let connectionId: UInt64
    private(set) var heldBytes = 0
    private var isClosed = false

    init(pool: RequestMemoryPool, connectionId: UInt64) {
        self.pool = pool
        self.connectionId = connectionId
    }

    /// False when the budget is spent; `wake` is then called once there is room again.
    func tryReserve(_ bytes: Int, wake: @escaping @Sendable () -> Void) -> Bool {
        guard !isClosed else { return false }
        guard pool.tryReserve(bytes, connectionId: connectionId, wake: wake) else { return false }
        heldBytes += bytes
        return true
    }

    /// A request of `bytes` (its size field included) was answered or dropped.
    func release(_ bytes: Int) {
        guard !isClosed else { return }  // the close released everything already
        precondition(bytes <= heldBytes, "connection \(connectionId) released \(bytes) request bytes but holds \(heldBytes)")
        heldBytes -= bytes
        pool.release(bytes)
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        pool.cancelWait(connectionId: connectionId)
        pool.release(heldBytes)
        heldBytes = 0
    }
}

/// Sits between the socket and `FrameDecoder` and charges each frame to the broker-wide request budget
/// as soon as its size field arrives. When the budget is spent it keeps the bytes after that size (at
/// most one read's worth), passes no further reads on (the connection is muted, as Kafka mutes a
/// channel whose receive buffer cannot be allocated) and resumes once requests elsewhere are answered.
/// A size the decoder will refuse is not charged: the decoder closes the connection.
final class RequestMemoryGate: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let account: RequestBytesAccount
    private let frameBytesMax: Int32
    private let metrics: ServerMetrics?
    private var scanner = FrameHeaderScanner()
    /// The stream stopped being frames this broker takes; the decoder is about to close the connection.
    private var passThrough = false
    /// Bytes after a size field the budget could not take yet, and the reservation they wait for.
    private var held: (bytes: ByteBuffer, reservationBytes: Int)?
    private var readHeldBack = false

    init(account: RequestBytesAccount, frameBytesMax: Int32, metrics: ServerMetrics?) {
        self.account = account
        self.frameBytesMax = frameBytesMax
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if var waiting = held {
            // A read that was already under way when the connection was muted: kept, bounded by one read.
            waiting.bytes.writeBuffer(&chunk)
            held = waiting
            return
        }
        pass(chunk, context: context)
    }

    /// Forwards `chunk` up to the first size field the budget cannot take, and holds the rest.
    private func pass(_ chunk: ByteBuffer, context: ChannelHandlerContext) {
        var unforwarded = chunk
        var scannedBytes = 0
        while !passThrough, scannedBytes < unforwarded.readableBytes {
            guard let window = unforwarded.getSlice(
                at: unforwarded.readerIndex + scannedBytes, length: unforwarded.readableBytes - scannedBytes)
            else { break }
            let (scanned, size) = scanner.scan(window)
            scannedBytes += scanned
            guard let size else { break }
            guard size >= 0, size <= frameBytesMax else {
                passThrough = true
                break
            }
            let reservationBytes = 4 + Int(size)
            if !account.tryReserve(reservationBytes, wake: wakeUp(context: context)) {
                metrics?.requestMemoryRefusals.increment()
                if let head = unforwarded.readSlice(length: scannedBytes), head.readableBytes > 0 {
                    context.fireChannelRead(wrapInboundOut(head))
                }
                held = (unforwarded, reservationBytes)
                return
            }
        }
        if unforwarded.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(unforwarded))
        }
    }

    /// What the pool calls, on any thread, when there may be room again.
    private func wakeUp(context: ChannelHandlerContext) -> @Sendable () -> Void {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        return {
            loop.execute {
                let (gate, context) = bound.value
                gate.retry(context: context)
            }
        }
    }

    private func retry(context: ChannelHandlerContext) {
        guard let waiting = held, context.channel.isActive else { return }
        guard account.tryReserve(waiting.reservationBytes, wake: wakeUp(context: context)) else { return }
        held = nil
        pass(waiting.bytes, context: context)
        context.fireChannelReadComplete()
        if held == nil, readHeldBack {
            readHeldBack = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if held != nil {
            readHeldBack = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        held = nil
        account.close()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        held = nil
        account.close()
    }
}
