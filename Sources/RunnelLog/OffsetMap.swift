/// The cleaner's key → latest offset map for one pass, bounded in entries and in bytes. Keys are kept
/// whole (not hashed), so two keys can never be confused; the bytes bound counts each key's length plus
/// an estimate of the dictionary's per-entry overhead.
struct OffsetMap {
    /// What one entry costs beyond its key bytes (array header, offset, hash-table slot), roughly.
    static let entryOverheadBytes = 64

    let entriesMax: Int
    let bytesMax: Int
    private(set) var offsets: [[UInt8]: Int64] = [:]
    private(set) var bytes = 0

    init(entriesMax: Int, bytesMax: Int) {
        precondition(entriesMax > 0 && bytesMax > 0)
        self.entriesMax = entriesMax
        self.bytesMax = bytesMax
    }

    var count: Int { offsets.count }
    var isEmpty: Bool { offsets.isEmpty }

    /// Whether `keys` more new keys of `keyBytes` bytes in all would stay within the bounds (callers ask
    /// before a batch with the batch's worst case, so a batch is never split).
    func hasRoom(keys: Int, keyBytes: Int) -> Bool {
        offsets.count + keys <= entriesMax && bytes + keyBytes + keys * Self.entryOverheadBytes <= bytesMax
    }

    /// Records `offset` as the latest for `key`. Offsets arrive in log order: the cleaner skips batches
    /// whose offsets do not rise, so this guards our own invariant, not the disk's.
    mutating func put(_ key: [UInt8], offset: Int64) {
        if let previous = offsets.updateValue(offset, forKey: key) {
            precondition(previous < offset, "offsets must rise: \(previous) then \(offset)")
        } else {
            bytes += key.count + Self.entryOverheadBytes
        }
    }

    func latestOffset(for key: [UInt8]) -> Int64? { offsets[key] }
}
