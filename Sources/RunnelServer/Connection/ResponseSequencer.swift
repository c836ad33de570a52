import NIOCore

/// Puts responses back into request order on one connection.
///
/// Requests are admitted in arrival order and numbered; handlers may finish in any order; a response is
/// released only when every earlier request has been answered (or has declared that it has no answer,
/// as a produce with acks=0 does). At most `inFlightMax` requests, holding at most `inFlightBytesMax`
/// request bytes, are admitted at once (one request is always admitted, however large), so the
/// requests held in memory and the parked responses are bounded too.
public struct ResponseSequencer<Response> {
    public let inFlightMax: Int
    public let inFlightBytesMax: Int
    /// Request bytes admitted and not yet released.
    public private(set) var inFlightBytes = 0
    /// Each unreleased request's bytes, in admission order (requests are released in that order).
    private var admittedBytes = CircularBuffer<Int>(initialCapacity: 4)
    /// Sequence number the next admitted request receives.
    private var nextAdmitted: UInt64 = 0
    /// Sequence number whose response must leave next.
    private var nextReleased: UInt64 = 0
    /// Finished out of order, waiting for an earlier one. nil value: finished with no response.
    private var parked: [UInt64: Response?] = [:]

    public init(inFlightMax: Int, inFlightBytesMax: Int = .max) {
        precondition(inFlightMax >= 1, "at least one request must be allowed in flight")
        precondition(inFlightBytesMax >= 1, "the in-flight byte limit must be positive")
        self.inFlightMax = inFlightMax
        self.inFlightBytesMax = inFlightBytesMax
    }

    /// Admitted and not yet released.
    public var inFlight: Int { Int(nextAdmitted - nextReleased) }

    /// Whether a request could be admitted now (worth reading more).
    public var canAdmit: Bool { inFlight < inFlightMax && (inFlight == 0 || inFlightBytes < inFlightBytesMax) }

    /// Whether a request of `bytes` may be admitted now.
    public func canAdmit(bytes: Int) -> Bool {
        inFlight < inFlightMax && (inFlight == 0 || inFlightBytes + bytes <= inFlightBytesMax)
    }

    /// Numbers the next request, of `bytes`. The caller must check `canAdmit(bytes:)` first.
    public mutating func admit(bytes: Int = 0) -> UInt64 {
        precondition(canAdmit(bytes: bytes), "admitted past the in-flight limits")
        defer { nextAdmitted += 1 }
        inFlightBytes += bytes
        admittedBytes.append(bytes)
        return nextAdmitted
    }

    /// Records that request `sequence` finished; returns the responses that may now be written, in order.
    public mutating func complete(_ sequence: UInt64, response: Response?) -> [Response] {
        precondition(sequence >= nextReleased && sequence < nextAdmitted, "completion for unknown request \(sequence)")
        precondition(parked[sequence] == nil, "request \(sequence) completed twice")
        parked[sequence] = .some(response)
        var released: [Response] = []
        while let entry = parked.removeValue(forKey: nextReleased) {
            if let response = entry {
                released.append(response)
            }
            inFlightBytes -= admittedBytes.removeFirst()
            nextReleased += 1
        }
        assert(parked.count <= inFlight)
        return released
    }
}
