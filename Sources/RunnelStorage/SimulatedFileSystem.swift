import Synchronization

/// The simulated twin of the disk, for crash tests and the deterministic simulator.
///
/// It keeps, for every file, what is durable (as of its last `sync`) apart from the writes made since,
/// and for every directory which names are durable (as of its last `syncDirectory`). `crash` forgets all
/// that was not made durable, optionally keeping a prefix of the unsynced writes — the last one torn at
/// any byte — as a real disk may. Deterministic: nothing here reads a clock or unseeded randomness.
public final class SimulatedFileSystem: FileSystem {
    enum Entry: Equatable { case file(Int), directory }

    enum Operation {
        case write(offset: Int, bytes: [UInt8])
        case truncate(size: Int)
    }

    struct Inode {
        var current: [UInt8] = []
        var durable: [UInt8] = []
        /// What happened since the last sync, in order: what a crash may keep a prefix of.
        var pending: [Operation] = []
    }

    struct State {
        var inodes: [Int: Inode] = [:]
        var nextInode = 1
        var current: [String: Entry] = ["/": .directory]
        var durable: [String: Entry] = ["/": .directory]
        /// Bumped by every crash: handles from before it are dead.
        var generation = 0
        var failingSyncPathPrefixes: [String] = []
        var fileSyncs = 0
        var directorySyncs = 0
    }

    let state = Mutex(State())

    public init() {}

    /// How the unsynced writes of a crash are treated.
    public enum Tear: Sendable {
        /// Everything not synced is lost.
        case dropUnsynced
        /// For the named files, keep this many bytes of their unsynced writes (in write order, the last
        /// kept write torn at the byte boundary); every other file loses its unsynced writes.
        case keepUnsyncedBytes([String: Int])
        /// Each file keeps a pseudo-random prefix of its unsynced writes, drawn from the seed.
        case seeded(UInt64)
    }

    /// Simulates a power loss: unsynced data and directory entries vanish, open handles die.
    public func crash(_ tear: Tear = .dropUnsynced) {
        state.withLock { s in
            var random = tear.seed.map { SplitMix64(seed: $0) }
            s.generation += 1
            // Durable directory entries survive only under a durable directory.
            var survivors: [String: Entry] = [:]
            for (path, entry) in s.durable where Self.hasDurableAncestors(path, in: s.durable) {
                survivors[path] = entry
            }
            s.current = survivors
            s.durable = survivors
            let live = Set(survivors.compactMap { (path, entry) -> Int? in
                if case .file(let id) = entry { return id } else { return nil }
            })
            for id in Array(s.inodes.keys) where !live.contains(id) { s.inodes[id] = nil }
            let pathOf = Dictionary(survivors.compactMap { (path, entry) -> (Int, String)? in
                if case .file(let id) = entry { return (id, path) } else { return nil }
            }, uniquingKeysWith: { a, _ in a })
            for id in s.inodes.keys.sorted() {
                var inode = s.inodes[id]!
                let total = Self.pendingBytes(inode.pending)
                var keep = 0
                switch tear {
                case .dropUnsynced: keep = 0
                case .keepUnsyncedBytes(let map): keep = min(map[pathOf[id] ?? ""] ?? 0, total)
                case .seeded: keep = total == 0 ? 0 : Int(random!.next() % UInt64(total + 1))
                }
                inode.current = Self.replay(inode.pending, keepingBytes: keep, onto: inode.durable)
                inode.durable = inode.current
                inode.pending = []
                s.inodes[id] = inode
            }
        }
    }

    /// Replaces the whole disk with an empty one (a node whose volume was lost).
    public func wipe() {
        state.withLock { s in
            let generation = s.generation + 1
            s = State()
            s.generation = generation
        }
    }

    /// Makes every later sync of a path with this prefix fail, as a dying disk would.
    public func failSyncs(underPath prefix: String) {
        state.withLock { $0.failingSyncPathPrefixes.append(prefix) }
    }

    /// Bytes written to the file since its last sync (what a crash may tear).
    public func unsyncedBytes(_ path: String) -> Int {
        state.withLock { s in
            guard case .file(let id)? = s.current[Self.normalize(path)] else { return 0 }
            return Self.pendingBytes(s.inodes[id]!.pending)
        }
    }

    public var syncCounts: (files: Int, directories: Int) {
        state.withLock { ($0.fileSyncs, $0.directorySyncs) }
    }

    // MARK: FileSystem

    public func openFile(_ path: String, options: OpenOptions) throws -> any StorageFile {
        let path = Self.normalize(path)
        return try state.withLock { s throws -> SimulatedFile in
            switch s.current[path] {
            case .directory?:
                throw StorageError.io(operation: "open", path: path, errno: 21)  // EISDIR
            case .file(let id)?:
                if options.contains(.create) && options.contains(.exclusive) { throw StorageError.alreadyExists(path) }
                if options.contains(.truncate) { Self.apply(.truncate(size: 0), to: &s.inodes[id]!) }
                return SimulatedFile(path: path, inode: id, generation: s.generation, fileSystem: self)
            case nil:
                guard options.contains(.create) else { throw StorageError.notFound(path) }
                guard s.current[Path.parent(of: path)] == .directory else { throw StorageError.notFound(Path.parent(of: path)) }
                let id = s.nextInode
                s.nextInode += 1
                s.inodes[id] = Inode()
                s.current[path] = .file(id)
                return SimulatedFile(path: path, inode: id, generation: s.generation, fileSystem: self)
            }
        }
    }

    public func createDirectory(_ path: String) throws {
        let path = Self.normalize(path)
        try state.withLock { s throws in
            var missing: [String] = []
            var cursor = path
            while s.current[cursor] == nil {
                missing.append(cursor)
                cursor = Path.parent(of: cursor)
            }
            guard s.current[cursor] == .directory else { throw StorageError.notADirectory(cursor) }
            for directory in missing { s.current[directory] = .directory }
        }
    }

    public func contentsOfDirectory(_ path: String) throws -> [String] {
        let path = Self.normalize(path)
        return try state.withLock { s throws in
            guard s.current[path] == .directory else { throw StorageError.notFound(path) }
            return s.current.keys.filter { $0 != "/" && Path.parent(of: $0) == path }.map(Path.name(of:)).sorted()
        }
    }

    public func fileExists(_ path: String) -> Bool {
        state.withLock { s in
            if case .file? = s.current[Self.normalize(path)] { return true } else { return false }
        }
    }

    public func directoryExists(_ path: String) -> Bool {
        state.withLock { $0.current[Self.normalize(path)] == .directory }
    }

    public func removeFile(_ path: String) throws {
        let path = Self.normalize(path)
        try state.withLock { s throws in
            guard case .file? = s.current[path] else { throw StorageError.notFound(path) }
            s.current[path] = nil
        }
    }

    public func removeDirectory(_ path: String) throws {
        let path = Self.normalize(path)
        try state.withLock { s throws in
            guard s.current[path] == .directory else { throw StorageError.notFound(path) }
            for key in s.current.keys where key == path || key.hasPrefix(path + "/") { s.current[key] = nil }
        }
    }

    public func rename(from: String, to: String) throws {
        let from = Self.normalize(from), to = Self.normalize(to)
        try state.withLock { s throws in
            guard let entry = s.current[from] else { throw StorageError.notFound(from) }
            guard case .file = entry else { throw StorageError.io(operation: "rename", path: from, errno: 21) }
            guard s.current[Path.parent(of: to)] == .directory else { throw StorageError.notFound(Path.parent(of: to)) }
            s.current[from] = nil
            s.current[to] = entry
        }
    }

    public func syncDirectory(_ path: String) throws {
        let path = Self.normalize(path)
        try state.withLock { s throws in
            guard s.current[path] == .directory else { throw StorageError.notFound(path) }
            if s.failingSyncPathPrefixes.contains(where: { path.hasPrefix($0) }) {
                throw StorageError.syncFailed(path: path, errno: 5)  // EIO
            }
            s.directorySyncs += 1
            for key in s.durable.keys where key != "/" && Path.parent(of: key) == path && s.current[key] == nil {
                s.durable[key] = nil
            }
            for (key, entry) in s.current where key != "/" && Path.parent(of: key) == path {
                s.durable[key] = entry
            }
        }
    }

    // MARK: File operations (called by SimulatedFile)

    func withInode<R>(_ file: SimulatedFile, _ body: (inout Inode, inout State) throws -> R) throws -> R {
        try state.withLock { s throws -> R in
            guard s.generation == file.generation, var inode = s.inodes[file.inode] else {
                throw StorageError.closed(file.path)
            }
            defer { s.inodes[file.inode] = inode }
            return try body(&inode, &s)
        }
    }

    static func apply(_ operation: Operation, to inode: inout Inode) {
        inode.pending.append(operation)
        inode.current = replay([operation], keepingBytes: Int.max, onto: inode.current)
    }

    static func replay(_ operations: [Operation], keepingBytes budget: Int, onto base: [UInt8]) -> [UInt8] {
        var content = base
        var budget = budget
        for operation in operations {
            switch operation {
            case .truncate(let size):
                if size < content.count { content.removeLast(content.count - size) } else {
                    content.append(contentsOf: repeatElement(0, count: size - content.count))
                }
            case .write(let offset, let bytes):
                let kept = min(budget, bytes.count)
                if kept == 0 { return content }
                if offset > content.count { content.append(contentsOf: repeatElement(0, count: offset - content.count)) }
                let end = offset + kept
                if end > content.count { content.append(contentsOf: repeatElement(0, count: end - content.count)) }
                content.replaceSubrange(offset..<end, with: bytes[0..<kept])
                budget -= kept
                if kept < bytes.count { return content }
            }
        }
        return content
    }

    static func pendingBytes(_ operations: [Operation]) -> Int {
        operations.reduce(0) { sum, op in
            if case .write(_, let bytes) = op { return sum + bytes.count } else { return sum }
        }
    }

    static func hasDurableAncestors(_ path: String, in entries: [String: Entry]) -> Bool {
        var cursor = Path.parent(of: path)
        while cursor != "/" && cursor != "." {
            guard entries[cursor] == .directory else { return false }
            cursor = Path.parent(of: cursor)
        }
        return true
    }

    static func normalize(_ path: String) -> String {
        var p = path.hasPrefix("/") ? path : "/" + path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}

final class SimulatedFile: StorageFile {
    let path: String
    let inode: Int
    let generation: Int
    let fileSystem: SimulatedFileSystem
    private let isClosed = Atomic<Bool>(false)

    init(path: String, inode: Int, generation: Int, fileSystem: SimulatedFileSystem) {
        self.path = path
        self.inode = inode
        self.generation = generation
        self.fileSystem = fileSystem
    }

    var fileDescriptor: Int32? { nil }

    private func checkOpen() throws {
        if isClosed.load(ordering: .relaxed) { throw StorageError.closed(path) }
    }

    func size() throws -> Int64 {
        try checkOpen()
        return try fileSystem.withInode(self) { inode, _ in Int64(inode.current.count) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try checkOpen()
        return try fileSystem.withInode(self) { inode, _ in
            let start = Int(offset)
            guard start < inode.current.count else { return 0 }
            let count = min(buffer.count, inode.current.count - start)
            inode.current.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
            }
            return count
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        try checkOpen()
        let copy = [UInt8](bytes)
        try fileSystem.withInode(self) { inode, _ in
            SimulatedFileSystem.apply(.write(offset: Int(offset), bytes: copy), to: &inode)
        }
    }

    func truncate(to size: Int64) throws {
        try checkOpen()
        try fileSystem.withInode(self) { inode, _ in SimulatedFileSystem.apply(.truncate(size: Int(size)), to: &inode) }
    }

    func sync() throws {
        try checkOpen()
        let path = self.path
        try fileSystem.withInode(self) { inode, s in
            if s.failingSyncPathPrefixes.contains(where: { path.hasPrefix($0) }) {
                throw StorageError.syncFailed(path: path, errno: 5)  // EIO
            }
            s.fileSyncs += 1
            inode.durable = inode.current
            inode.pending = []
        }
    }

    func close() { isClosed.store(true, ordering: .relaxed) }
}

extension SimulatedFileSystem.Tear {
    var seed: UInt64? { if case .seeded(let seed) = self { return seed } else { return nil } }
}

/// A small, fast, seedable generator (SplitMix64): the only randomness the simulation uses.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
