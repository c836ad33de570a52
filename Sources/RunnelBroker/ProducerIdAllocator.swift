import RunnelMetadata
import Synchronization

/// Hands out producer ids from blocks whose high mark is persisted through the metadata log, so an id
/// is never given twice, even across restarts (ids left in a block when the broker stops are skipped).
final class ProducerIdAllocator: Sendable {
    /// Kafka's block size: one metadata write per thousand producers.
    static let blockSize: Int64 = 1000

    private struct Block {
        var next: Int64 = 0
        var end: Int64 = 0
    }

    private final class Chosen: Sendable {
        let firstID = Atomic<Int64>(-1)
    }

    private let metadata: any MetadataLog
    private let controller: Controller
    private let block = Mutex(Block())

    init(metadata: any MetadataLog, controller: Controller) {
        self.metadata = metadata
        self.controller = controller
    }

    /// A producer id never handed out before.
    func allocate() async throws -> Int64 {
        if let id = takeFromBlock() { return id }
        let chosen = Chosen()
        let controller = self.controller
        _ = try await metadata.submit { image in
            let records = try controller.allocateProducerIdBlock(size: Self.blockSize, in: image)
            if case .producerIdBlock(let firstID, _) = records[0] { chosen.firstID.store(firstID, ordering: .relaxed) }
            return records
        }
        let firstID = chosen.firstID.load(ordering: .relaxed)
        precondition(firstID >= 0, "the controller allocated no producer id block")
        // A racing caller may have installed a block meanwhile; this one replaces it (its rest is skipped).
        return block.withLock { b in
            b = Block(next: firstID + 1, end: firstID + Self.blockSize)
            return firstID
        }
    }

    private func takeFromBlock() -> Int64? {
        block.withLock { b in
            guard b.next < b.end else { return nil }
            defer { b.next += 1 }
            return b.next
        }
    }
}
