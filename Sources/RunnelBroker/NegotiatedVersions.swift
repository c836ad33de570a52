import NIOCore

/// The (client id, API, version) entries already logged as negotiated, so that each is logged once.
/// At most `entriesMax` are kept, the oldest forgotten first: a client that makes up a new client id
/// for every request cannot grow it (a forgotten entry seen again is only logged again).
struct NegotiatedVersions {
    let entriesMax: Int
    private var seen: Set<String> = []
    private var order = CircularBuffer<String>()
    private var hasForgotten = false

    init(entriesMax: Int) {
        precondition(entriesMax >= 1, "at least one entry must be kept")
        self.entriesMax = entriesMax
    }

    var count: Int { seen.count }

    /// Whether `entry` is new (worth a log line), and whether keeping it made the first entry ever be
    /// forgotten (worth saying once that the table is full).
    mutating func insert(_ entry: String) -> (isNew: Bool, firstForgotten: Bool) {
        guard seen.insert(entry).inserted else { return (false, false) }
        order.append(entry)
        var firstForgotten = false
        while order.count > entriesMax, let oldest = order.popFirst() {
            seen.remove(oldest)
            if !hasForgotten {
                hasForgotten = true
                firstForgotten = true
            }
        }
        return (true, firstForgotten)
    }
}
