/// The first offset written in a leader epoch.
public struct EpochEntry: Equatable, Sendable {
    public let epoch: Int32
    public let startOffset: Int64

    public init(epoch: Int32, startOffset: Int64) {
        self.epoch = epoch
        self.startOffset = startOffset
    }
}

/// The answer to OffsetForLeaderEpoch: the largest epoch at or below the requested one, and the offset
/// where the requested epoch ended (the start of the next higher epoch, or the log end offset for the
/// latest epoch). `undefined` (-1, -1) when the log knows no such epoch.
public struct EpochEndOffset: Equatable, Sendable {
    public let epoch: Int32
    public let endOffset: Int64

    public init(epoch: Int32, endOffset: Int64) {
        self.epoch = epoch
        self.endOffset = endOffset
    }

    public static let undefined = EpochEndOffset(epoch: -1, endOffset: -1)
}

/// Leader epoch → start offset, increasing in both. Pure; `PartitionLog` persists it to
/// `leader-epoch-checkpoint` whenever it changes.
struct LeaderEpochCache: Equatable {
    private(set) var entries: [EpochEntry] = []

    init(entries: [EpochEntry] = []) {
        precondition(Self.isMonotonic(entries))
        self.entries = entries
    }

    var latest: EpochEntry? { entries.last }

    /// Records that `epoch` starts at `startOffset`. A repeat of the latest epoch at a later offset changes
    /// nothing; otherwise entries that would contradict the new one (an epoch at least as high, or a start
    /// at least as late) are removed first. Returns whether the cache changed.
    mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        precondition(epoch >= 0 && startOffset >= 0)
        if let latest, latest.epoch == epoch, startOffset >= latest.startOffset { return false }
        entries.removeAll { $0.epoch >= epoch || $0.startOffset >= startOffset }
        entries.append(EpochEntry(epoch: epoch, startOffset: startOffset))
        return true
    }

    func endOffset(forEpoch requested: Int32, logEndOffset: Int64) -> EpochEndOffset {
        guard requested >= 0, let latest else { return .undefined }
        if requested == latest.epoch { return EpochEndOffset(epoch: requested, endOffset: logEndOffset) }
        guard let higher = entries.first(where: { $0.epoch > requested }) else { return .undefined }
        let floor = entries.last(where: { $0.epoch <= requested })
        return EpochEndOffset(epoch: floor?.epoch ?? requested, endOffset: higher.startOffset)
    }

    /// Forgets epochs that start at or after `endOffset` (the log was truncated there).
    mutating func truncateFromEnd(endOffset: Int64) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// Forgets epochs that ended before `startOffset`; the one it falls in now starts there.
    mutating func truncateFromStart(startOffset: Int64) -> Bool {
        guard let covering = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        guard covering > 0 || entries[covering].startOffset != startOffset else { return false }
        let epoch = entries[covering].epoch
        entries.removeFirst(covering + 1)
        entries.insert(EpochEntry(epoch: epoch, startOffset: startOffset), at: 0)
        return true
    }

    static func isMonotonic(_ entries: [EpochEntry]) -> Bool {
        zip(entries, entries.dropFirst()).allSatisfy { $0.epoch < $1.epoch && $0.startOffset < $1.startOffset }
    }
}
