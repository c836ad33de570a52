/// A running FNV-1a hash of everything that happened, so two runs of one seed can be compared cheaply,
/// and a bounded log of the latest events for a failure report.
public struct Trace: Sendable {
    public private(set) var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    public private(set) var eventCount = 0
    private var recent: [String] = []
    private var recentNext = 0
    let recentMax: Int
    /// Rendering every event is costly; only failing replays turn it on.
    let keepsText: Bool

    init(recentMax: Int = 400, keepsText: Bool) {
        self.recentMax = recentMax
        self.keepsText = keepsText
    }

    mutating func mix(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            hash = (hash ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3
            v >>= 8
        }
    }

    mutating func record(_ words: UInt64..., text: @autoclosure () -> String) {
        eventCount += 1
        for word in words { mix(word) }
        guard keepsText else { return }
        let line = text()
        if recent.count < recentMax { recent.append(line) } else { recent[recentNext] = line }
        recentNext = (recentNext + 1) % recentMax
    }

    /// The latest events, oldest first.
    public var recentEvents: [String] {
        recent.count < recentMax ? recent : Array(recent[recentNext...] + recent[..<recentNext])
    }
}
