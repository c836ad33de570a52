/// Time arithmetic on values that come from the wire (OffsetCommit's `retention_time_ms`) or from
/// `__consumer_offsets` records (commit and state timestamps): any Int64 can arrive, so sums and
/// differences stop at the ends of the type instead of trapping. A time past the end is "never".
extension Int64 {
    func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }
}
