import RunnelStorage

/// Segment file names: the base offset as 20 zero-padded digits, so names sort as offsets do.
enum SegmentFileNames {
    static let logSuffix = ".log"
    static let indexSuffix = ".index"
    static let timeIndexSuffix = ".timeindex"
    /// Appended to a removed segment's files until they are unlinked.
    static let deletedSuffix = ".deleted"
    static let digits = 20

    static func stem(baseOffset: Int64) -> String {
        precondition(baseOffset >= 0)
        let text = String(baseOffset)
        return String(repeating: "0", count: digits - text.count) + text
    }

    static func logPath(_ directory: String, _ baseOffset: Int64) -> String {
        Path.join(directory, stem(baseOffset: baseOffset) + logSuffix)
    }

    static func indexPath(_ directory: String, _ baseOffset: Int64) -> String {
        Path.join(directory, stem(baseOffset: baseOffset) + indexSuffix)
    }

    static func timeIndexPath(_ directory: String, _ baseOffset: Int64) -> String {
        Path.join(directory, stem(baseOffset: baseOffset) + timeIndexSuffix)
    }

    /// The base offset named by a file with `suffix`, or nil for any other name.
    static func baseOffset(fromName name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix), name.utf8.count == digits + suffix.utf8.count else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(stem)
    }
}
