import RunnelStorage

extension LogState {
    /// Opens (creating if needed) the log in `directory` and recovers it after a crash or a clean stop.
    ///
    /// Segments wholly before the recovery point were synced whole, as was the last one after a clean
    /// close: their indexes are checked (and rebuilt if off). Every later segment is scanned batch by batch
    /// (structure, offsets, CRC) with its indexes rebuilt. Damage where the bytes were known durable (any
    /// segment but the last, or the last one below the recovery point) throws `LogError.corrupt` and
    /// cuts nothing; only a damaged tail of the last segment above the recovery point, what a
    /// crash leaves of an unsynced write, is cut. What survives is then synced, so the recovered log end
    /// offset is durable; the high watermark is kept within [log start offset, log end offset].
    static func open(directory: String, fileSystem: any FileSystem, config: LogConfig, nowMs: Int64) throws
        -> (LogState, LogRecoveryReport)
    {
        if !fileSystem.directoryExists(directory) {
            try fileSystem.createDirectory(directory)
            try fileSystem.syncDirectory(Path.parent(of: directory))
        }
        // An interrupted cleaner swap is finished (or undone) before the segments are listed.
        let swapped = try SegmentSwap.recover(directory: directory, fileSystem: fileSystem)
        let names = try fileSystem.contentsOfDirectory(directory)
        let bases = names.compactMap { SegmentFileNames.baseOffset(fromName: $0, suffix: SegmentFileNames.logSuffix) }.sorted()
        let baseSet = Set(bases)
        for name in names {
            let orphanIndex = [SegmentFileNames.indexSuffix, SegmentFileNames.timeIndexSuffix].contains { suffix in
                SegmentFileNames.baseOffset(fromName: name, suffix: suffix).map { !baseSet.contains($0) } ?? false
            }
            // Leftovers: indexes whose segment is gone, temporaries of interrupted checkpoint writes,
            // files of removed segments not yet unlinked.
            if orphanIndex || name.hasSuffix(".tmp") || name.hasSuffix(SegmentFileNames.deletedSuffix) { try fileSystem.removeFile(Path.join(directory, name)) }
        }

        func readOffset(_ name: String) throws -> Int64? {
            try CheckpointFile.read(Path.join(directory, name), fileSystem: fileSystem).flatMap(CheckpointFile.decodeOffset)
        }
        let recoveryPoint = try readOffset(CheckpointFile.recoveryPoint) ?? 0
        let checkpointedStart = max(try readOffset(CheckpointFile.logStartOffset) ?? 0, 0)
        let checkpointedHighWatermark = try readOffset(CheckpointFile.highWatermark) ?? 0
        let checkpointedEpochs = try CheckpointFile.read(Path.join(directory, CheckpointFile.leaderEpochs), fileSystem: fileSystem)
            .flatMap(CheckpointFile.decodeEpochs)
        // After a clean close the last segment was synced whole. The marker goes, durably, before anything
        // is written, so it can never vouch for bytes written after it.
        let cleanShutdownSize = try readOffset(CheckpointFile.cleanShutdown)
        let cleanShutdownPath = Path.join(directory, CheckpointFile.cleanShutdown)
        if fileSystem.fileExists(cleanShutdownPath) {
            try fileSystem.removeFile(cleanShutdownPath)
            try fileSystem.syncDirectory(directory)
        }

        // What must survive: offsets from the log start up to the recovery point (those below the start
        // were deleted anyway, so a log whose data is gone up to its recorded start lost nothing).
        let durableEnd = recoveryPoint > checkpointedStart ? recoveryPoint : 0
        var segments: [LogSegment] = []
        var scanned: Set<Int64> = []
        var report = LogRecoveryReport()
        for (i, base) in bases.enumerated() {
            let isLast = i == bases.count - 1
            var trusted = !isLast && bases[i + 1] <= recoveryPoint
            if isLast, let cleanShutdownSize {
                let file = try fileSystem.openFile(SegmentFileNames.logPath(directory, base), options: [])
                trusted = try file.size() == cleanShutdownSize
                file.close()
            }
            if swapped.contains(base) { trusted = false }  // its indexes may belong to the old segment
            let (segment, scan) = try LogSegment.open(
                in: directory, baseOffset: base, fileSystem: fileSystem,
                indexIntervalBytes: config.indexIntervalBytes, trusted: trusted, nowMs: nowMs)
            if !trusted {
                scanned.insert(base)
                report.scannedSegments += 1
            }
            var verdict = RecoveryVerdict.judge(scan, baseOffset: base, isLast: isLast, recoveryPoint: durableEnd)
            if let previous = segments.last, base < previous.nextOffset {
                // Not a consistent log, and not what any crash leaves: which copy is right is not ours to guess.
                verdict = .corrupt(position: 0, reason: "the segment starts at offset \(base), inside its predecessor (which ends at \(previous.nextOffset))")
            }
            switch verdict {
            case .intact:
                segments.append(segment)
            case .cutTornTail(let position):
                try segment.cutTail(at: position)
                report.tornTail = LogRecoveryReport.TornTail(
                    path: segment.log.path, position: position, bytesDropped: scan.fileBytes - position, reason: scan.damage ?? "")
                segments.append(segment)
            case .corrupt(let position, let reason):
                segment.close()
                for opened in segments { opened.close() }
                throw LogError.corrupt(LogCorruption(path: segment.log.path, position: position, reason: reason))
            }
        }
        if segments.isEmpty {
            segments.append(try LogSegment.create(in: directory, baseOffset: checkpointedStart, fileSystem: fileSystem,
                                                  indexIntervalBytes: config.indexIntervalBytes, nowMs: nowMs))
        }
        // Scanned segments may hold bytes that reached only the page cache before a process restart:
        // sync them before calling them durable. Inactive ones get their closing time-index entry.
        for i in segments.indices where scanned.contains(segments[i].baseOffset) {
            if i < segments.count - 1 { try segments[i].seal() }
            for file in segments[i].files { try file.sync() }
        }
        try fileSystem.syncDirectory(directory)

        var state = LogState(
            directory: directory, fileSystem: fileSystem, config: config, segments: segments,
            logStartOffset: 0, highWatermark: 0, epochs: LeaderEpochCache(entries: checkpointedEpochs ?? []),
            flush: FlushTracker(flushedOffset: 0, waitersMax: config.flushWaitersMax))
        if checkpointedStart > state.logEndOffset {
            // Everything below the recorded start is gone anyway; never resurrect deleted records.
            try state.restart(at: checkpointedStart, nowMs: nowMs)
        }
        state.logStartOffset = max(checkpointedStart, state.segments[0].baseOffset)
        state.highWatermark = min(max(checkpointedHighWatermark, state.logStartOffset), state.logEndOffset)
        state.flush = FlushTracker(flushedOffset: state.logEndOffset, waitersMax: config.flushWaitersMax)

        // The epoch cache: the checkpoint cut to the recovered data, plus epochs found in scanned segments
        // (all segments if the checkpoint is missing or corrupt).
        _ = state.epochs.truncateFromEnd(endOffset: state.logEndOffset)
        let epochSources = checkpointedEpochs == nil ? state.segments : state.segments.filter { scanned.contains($0.baseOffset) }
        for segment in epochSources {
            for start in try segment.epochStarts() where start.epoch > (state.epochs.latest?.epoch ?? -1) {
                _ = state.epochs.assign(epoch: start.epoch, startOffset: start.startOffset)
            }
        }
        _ = state.epochs.truncateFromEnd(endOffset: state.logEndOffset)
        _ = state.epochs.truncateFromStart(startOffset: state.logStartOffset)
        if state.epochs.entries != checkpointedEpochs { try state.writeEpochCheckpoint() }
        try state.writeRecoveryPointIfChanged()
        try state.loadProducers()
        return (state, report)
    }
}
