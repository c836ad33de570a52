import RunnelStorage

/// The crash-safe replacement of a run of segments by their cleaned copy.
///
/// For old segments with base offsets in [base, end), all below the active segment:
/// 1. the cleaned copy is written as `<base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`)
///    and each file is synced;
/// 2. the log is renamed to `<base>-<end>.swap` and the directory synced: the commit point;
/// 3. every old segment file in [base, end) is removed and the directory synced;
/// 4. the cleaned indexes and then the swap file take their final names and the directory is synced.
/// A crash before 2 leaves the old segments (recovery removes `.cleaned` files); from 2 on, recovery
/// finishes steps 3 and 4 from the swap file's name alone. Old files go durably (3) before the new log
/// takes the base name (4), so no old segment can survive beside the new one that replaced it.
enum SegmentSwap {
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"

    static func cleanedPath(_ finalPath: String) -> String { finalPath + cleanedSuffix }

    /// The cleaned log, offset index and time index of the segment at `baseOffset`, in that order.
    static func cleanedPaths(_ directory: String, baseOffset: Int64) -> [String] {
        [SegmentFileNames.logPath(directory, baseOffset), SegmentFileNames.indexPath(directory, baseOffset),
         SegmentFileNames.timeIndexPath(directory, baseOffset)].map(cleanedPath)
    }

    static func swapPath(_ directory: String, baseOffset: Int64, endOffset: Int64) -> String {
        Path.join(directory, SegmentFileNames.stem(baseOffset: baseOffset) + "-" + SegmentFileNames.stem(baseOffset: endOffset) + swapSuffix)
    }

    /// The [base, end) range a swap file names; nil for any other name.
    static func range(fromName name: String) -> (baseOffset: Int64, endOffset: Int64)? {
        let digits = SegmentFileNames.digits
        guard name.hasSuffix(swapSuffix), name.utf8.count == 2 * digits + 1 + swapSuffix.utf8.count else { return nil }
        let stems = name.dropLast(swapSuffix.count).split(separator: "-")
        guard stems.count == 2, stems.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let base = Int64(stems[0]), let end = Int64(stems[1]), base < end
        else { return nil }
        return (base, end)
    }

    /// The base offset of a segment file (log or either index), or nil.
    static func segmentBase(ofName name: String) -> Int64? {
        for suffix in [SegmentFileNames.logSuffix, SegmentFileNames.indexSuffix, SegmentFileNames.timeIndexSuffix] {
            if let base = SegmentFileNames.baseOffset(fromName: name, suffix: suffix) { return base }
        }
        return nil
    }

    /// Removes every segment file with a base offset in [base, end). The caller syncs the directory.
    static func removeSegmentFiles(in directory: String, baseOffset: Int64, endOffset: Int64, fileSystem: any FileSystem) throws {
        for name in try fileSystem.contentsOfDirectory(directory) {
            if let base = segmentBase(ofName: name), base >= baseOffset, base < endOffset {
                try fileSystem.removeFile(Path.join(directory, name))
            }
        }
    }

    /// Run first by recovery: finishes a swap past its commit point and removes the files of one that
    /// never reached it. Idempotent, so a crash inside it is recovered by running it again. Returns the
    /// base offsets of swapped-in segments, whose indexes are rebuilt by a full scan.
    static func recover(directory: String, fileSystem: any FileSystem) throws -> Set<Int64> {
        let names = try fileSystem.contentsOfDirectory(directory)
        let swaps = names.compactMap { name in range(fromName: name).map { (name, $0) } }.sorted { $0.1.baseOffset < $1.1.baseOffset }
        let cleaned = names.filter { $0.hasSuffix(cleanedSuffix) }
        guard !swaps.isEmpty || !cleaned.isEmpty else { return [] }
        for name in cleaned { try fileSystem.removeFile(Path.join(directory, name)) }
        var swapped: Set<Int64> = []
        for (name, range) in swaps {
            try removeSegmentFiles(in: directory, baseOffset: range.baseOffset, endOffset: range.endOffset, fileSystem: fileSystem)
            try fileSystem.syncDirectory(directory)
            try fileSystem.rename(from: Path.join(directory, name), to: SegmentFileNames.logPath(directory, range.baseOffset))
            swapped.insert(range.baseOffset)
        }
        try fileSystem.syncDirectory(directory)
        return swapped
    }
}
