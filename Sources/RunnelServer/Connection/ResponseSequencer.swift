/// Puts responses back into request order on one connection.
///
/// Requests are admitted in arrival order and numbered; handlers may finish in any order; a response is
/// released only when every earlier request has been answered (or has declared that it has no answer,
/// as a produce with acks=0 does). At most `inFlightMax` requests are admitted at once, so the
/// parked responses are bounded too.
public struct ResponseSequencer<Response> {
    public let inFlightMax: Int
    /// Sequence number the next admitted request receives.
    private var nextAdmitted: UInt64 = 0
    /// Sequence number whose response must leave next.
    private var nextReleased: UInt64 = 0
    /// Finished out of order, waiting for an earlier one. nil value: finished with no response.
    private var parked: [UInt64: Response?] = [:]

    public init(inFlightMax: Int) {
        precondition(inFlightMax >= 1, "at least one request must be allowed in flight")
        self.inFlightMax = inFlightMax
    }

    /// Admitted and not yet released.
    public var inFlight: Int { Int(nextAdmitted - nextReleased) }

    public var canAdmit: Bool { inFlight < inFlightMax }

    /// Numbers the next request. The caller must check `canAdmit` first.
    public mutating func admit() -> UInt64 {
        precondition(canAdmit, "admitted past the in-flight limit")
        defer { nextAdmitted += 1 }
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
            nextReleased += 1
        }
        assert(parked.count <= inFlight)
        return released
    }
}
