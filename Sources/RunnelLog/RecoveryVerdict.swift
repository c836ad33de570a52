/// What the recovery scan of one segment file found.
struct SegmentScan: Equatable {
    /// Where the whole, valid batches end: the file size when nothing is wrong.
    var validBytes: Int64
    var fileBytes: Int64
    /// One past the last offset of the valid batches (the base offset when there is none).
    var nextOffset: Int64
    /// Why the bytes at `validBytes` are not a valid batch; nil when the whole file is valid.
    var damage: String?

    /// A segment whose indexes were trusted: its batches were not read, so nothing is known damaged.
    static func loaded(_ segment: LogSegment) -> SegmentScan {
        SegmentScan(validBytes: segment.sizeBytes, fileBytes: segment.sizeBytes, nextOffset: segment.nextOffset, damage: nil)
    }
}

/// Decides what recovery does with a segment after its scan. Bytes known durable are never cut: every
/// segment but the last was synced whole before the next one was created (`LogState.roll`), and the
/// last one holds durable batches below the recovery point (the flushed offset as last checkpointed).
/// Damage there is corruption, not a torn write: it is reported and the log kept offline, never cut
/// silently together with the synced segments after it. Only damage above the recovery point at the end
/// of the last segment is what a crash leaves of an unsynced write, and only that is cut.
enum RecoveryVerdict: Equatable {
    case intact
    /// A torn or unsynced tail at the end of the last segment: cut the file at `position`.
    case cutTornTail(position: Int64)
    /// Damage in bytes that were known durable.
    case corrupt(position: Int64, reason: String)

    static func judge(_ scan: SegmentScan, baseOffset: Int64, isLast: Bool, recoveryPoint: Int64) -> RecoveryVerdict {
        guard let damage = scan.damage else {
            // Whole batches, but fewer than were synced: the disk lost acknowledged data at a batch boundary.
            if isLast && baseOffset < recoveryPoint && scan.nextOffset < recoveryPoint {
                return .corrupt(position: scan.fileBytes,
                                reason: "the segment ends at offset \(scan.nextOffset), but offsets up to \(recoveryPoint) were synced")
            }
            return .intact
        }
        if !isLast {
            return .corrupt(position: scan.validBytes, reason: "\(damage), in a segment synced whole before the next one was rolled")
        }
        if scan.nextOffset < recoveryPoint {
            return .corrupt(position: scan.validBytes,
                            reason: "\(damage), below the recovery point \(recoveryPoint) (offsets from \(scan.nextOffset) were synced)")
        }
        return .cutTornTail(position: scan.validBytes)
    }
}
