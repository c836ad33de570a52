import RunnelStorage

extension LogState {
    // MARK: Flushing

    mutating func requestFlush() -> SyncRequest {
        let id = nextFlushID
        nextFlushID += 1
        // Only the active segment's data: older segments were synced when rolled, and the active
        // segment's indexes are rebuilt by recovery anyway.
        let files: [any StorageFile] = [active.log]
        pendingFlushes[id] = PendingFlush(targetOffset: logEndOffset, remaining: files.count, generation: generation)
        return SyncRequest(id: id, files: files)
    }

    /// Whether a requested sync, not yet refused, will make `offset` durable when it completes.
    func hasPendingFlush(reaching offset: Int64) -> Bool {
        pendingFlushes.values.contains { $0.generation == generation && $0.refusal == nil && $0.targetOffset >= offset }
    }

    mutating func completeSync(id: UInt64, result: Result<Void, StorageError>) {
        guard var pending = pendingFlushes[id] else { return }
        if case .failure(let error) = result {
            switch error {
            case .queueFull, .schedulerStopped: pending.refusal = error
            default: fail(error)
            }
        }
        pending.remaining -= 1
        if pending.remaining > 0 {
            pendingFlushes[id] = pending
            return
        }
        pendingFlushes[id] = nil
        if failure == nil && pending.generation == generation {
            if let refusal = pending.refusal {
                outbox += flush.refuse(refusal)
            } else {
                outbox += flush.advance(to: pending.targetOffset)
            }
        }
        closeRetiredFilesIfIdle()
    }

    /// Hands the retired files to the owner to close (outside the lock) once no requested sync can name them.
    mutating func closeRetiredFilesIfIdle() {
        guard pendingFlushes.isEmpty else { return }
        releasedFiles += retiredFiles
        retiredFiles = []
    }

    // MARK: High watermark and checkpoints

    mutating func updateHighWatermark(_ offset: Int64) {
        precondition(offset <= flush.flushedOffset, "high watermark \(offset) beyond the durable log end offset \(flush.flushedOffset)")
        precondition(offset >= highWatermark, "high watermark moved back from \(highWatermark) to \(offset)")
        highWatermark = offset
    }

    /// Moves the high watermark up to `offset`, capped at the durable log end offset; never down.
    mutating func advanceHighWatermark(toAtMost offset: Int64) -> Bool {
        let target = min(offset, flush.flushedOffset)
        guard target > highWatermark else { return false }
        highWatermark = target
        return true
    }

    mutating func writeCheckpoints() throws {
        if checkpointedHighWatermark != highWatermark {
            try writeOffsetCheckpoint(CheckpointFile.highWatermark, highWatermark)
            checkpointedHighWatermark = highWatermark
        }
        try writeRecoveryPointIfChanged()
    }

    mutating func writeRecoveryPointIfChanged() throws {
        if checkpointedRecoveryPoint != recoveryPoint {
            try writeOffsetCheckpoint(CheckpointFile.recoveryPoint, recoveryPoint)
            checkpointedRecoveryPoint = recoveryPoint
        }
    }

    /// Makes the checkpointed recovery point at most `offset`, durably, before data at or above it goes.
    mutating func lowerRecoveryPoint(to offset: Int64) throws {
        if let checkpointed = checkpointedRecoveryPoint, checkpointed <= offset { return }
        try writeOffsetCheckpoint(CheckpointFile.recoveryPoint, offset)
        checkpointedRecoveryPoint = offset
    }

    func writeOffsetCheckpoint(_ name: String, _ offset: Int64) throws {
        try fileSystem.writeAtomically(CheckpointFile.encode(offset: offset), to: path(name))
    }

    func writeEpochCheckpoint() throws {
        try fileSystem.writeAtomically(CheckpointFile.encode(epochs: epochs.entries), to: path(CheckpointFile.leaderEpochs))
    }
}
