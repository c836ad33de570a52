import RunnelChecksum

/// Tells a torn tail from damage in the middle of the last segment. A crash leaves at most one partial
/// or unwritten frame at the end of what was written, with nothing valid after it; a damaged frame
/// (a flipped bit, a zeroed header, a bad length field) with intact frames after it is corruption of
/// records that were written, and possibly synced and acknowledged, so recovery must not drop them.
enum WALTailProbe {
    /// Bytes of frame bodies the probe checksums at most: beyond that it cannot tell, and says so.
    static let checksummedBytesMax = 1 << 30

    enum Finding: Equatable {
        /// Nothing intact follows: a torn tail.
        case nothingIntact
        /// An intact frame starts at this offset.
        case intactFrame(at: Int)
        /// The probe gave up before the end (too many plausible frames to checksum).
        case undecided(at: Int)
    }

    /// Looks for an intact frame starting anywhere after `offset` (frames are not aligned, and the damaged
    /// one's length cannot be trusted to find the next).
    static func probe(_ bytes: [UInt8], after offset: Int) -> Finding {
        var checksummed = 0
        var start = offset + 1
        while start + WALFrame.headerBytes < bytes.count {
            defer { start += 1 }
            let length = bytes[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
            let bodyStart = start + WALFrame.headerBytes
            // Cheap tests first: a real frame has a non-zero length that fits, and a known record type.
            guard length > 0, length <= WALFrame.bodyBytesMax, length <= bytes.count - bodyStart,
                WALFrame.RecordType(rawValue: bytes[bodyStart]) != nil
            else { continue }
            checksummed += length
            guard checksummed <= checksummedBytesMax else { return .undecided(at: start) }
            if case .record = WALFrame.decode(bytes, at: start) { return .intactFrame(at: start) }
        }
        return .nothingIntact
    }
}
