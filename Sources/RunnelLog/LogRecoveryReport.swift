/// What opening a log found and repaired; `PartitionLog.open` also logs it.
public struct LogRecoveryReport: Equatable, Sendable {
    /// The unsynced end of the last segment that a crash left torn or damaged; the file was cut there.
    public struct TornTail: Equatable, Sendable {
        public var path: String
        public var position: Int64
        public var bytesDropped: Int64
        public var reason: String
    }

    public var tornTail: TornTail?
    /// Segments scanned batch by batch (the others were opened from their indexes).
    public var scannedSegments = 0

    public init() {}
}
