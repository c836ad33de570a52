import NIOCore

/// Follows a connection's byte stream as `FrameDecoder` splits it, to find each frame's 4-byte size
/// the moment it arrives, before the payload: what the request memory budget is charged with. Pure:
/// it only counts bytes.
struct FrameHeaderScanner {
    /// Payload bytes of the current frame still to come.
    private var payloadRemaining = 0
    /// Size bytes of the next frame seen so far (0 to 3), big-endian.
    private var sizeBytesSeen = 0
    private var sizeSoFar: UInt32 = 0

    /// Scans `buffer`'s readable bytes from the start. Returns how many it went over: up to and
    /// including the next complete size field, with that size, or all of them with nil when no size
    /// completes within them. A negative size is returned as it is; its frame's payload is not skipped.
    mutating func scan(_ buffer: ByteBuffer) -> (scannedBytes: Int, frameSize: Int32?) {
        var index = buffer.readerIndex
        let end = buffer.writerIndex
        let skipped = min(payloadRemaining, end - index)
        payloadRemaining -= skipped
        index += skipped
        while index < end {
            guard let byte = buffer.getInteger(at: index, as: UInt8.self) else { break }
            index += 1
            sizeSoFar = sizeSoFar << 8 | UInt32(byte)
            sizeBytesSeen += 1
            if sizeBytesSeen == 4 {
                let size = Int32(bitPattern: sizeSoFar)
                sizeBytesSeen = 0
                sizeSoFar = 0
                payloadRemaining = Int(max(size, 0))
                return (index - buffer.readerIndex, size)
            }
        }
        return (index - buffer.readerIndex, nil)
    }
}
