import Foundation
import RunnelStorage
import XCTest

final class PosixFileSystemTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "runnel-posix-\(UUID().uuidString)"
        try PosixFileSystem().createDirectory(root + "/x/y")
    }

    override func tearDownWithError() throws {
        try? PosixFileSystem().removeDirectory(root)
    }

    func testPositionalWritesReadsTruncateAndListing() throws {
        let fs = PosixFileSystem()
        let path = root + "/x/y/file"
        let file = try fs.openFile(path, options: [.create])
        try file.write([1, 2, 3, 4], at: 0)
        try file.write([9], at: 6)
        XCTAssertEqual(try file.readAll(), [1, 2, 3, 4, 0, 0, 9])
        try file.truncate(to: 2)
        try file.sync()
        XCTAssertEqual(try file.read(at: 0, count: 10), [1, 2])
        XCTAssertNotNil(file.fileDescriptor)
        file.close()
        XCTAssertThrowsError(try file.size())
        XCTAssertEqual(try fs.contentsOfDirectory(root + "/x/y"), ["file"])
        try fs.writeAtomically([5], to: root + "/x/y/ckpt")
        XCTAssertEqual(try fs.openFile(root + "/x/y/ckpt", options: []).readAll(), [5])
        XCTAssertThrowsError(try fs.openFile(root + "/missing", options: [])) { error in
            XCTAssertEqual(error as? StorageError, .notFound(root + "/missing"))
        }
    }

    func testGatherWriteOfMorePartsThanOneSystemCallTakesWritesThemInOrder() throws {
        let file = try PosixFileSystem().openFile(root + "/x/y/gathered", options: [.create])
        defer { file.close() }
        // 3000 parts (three pwritev calls), some empty, of sizes 0...6, with a byte pattern per part.
        let parts: [[UInt8]] = (0..<3000).map { index in Array(repeating: UInt8(truncatingIfNeeded: index), count: index % 7) }
        try file.write([0xEE, 0xEE], at: 0)
        let joined = parts.flatMap { $0 }
        let pointers: [UnsafeMutableRawBufferPointer] = parts.map { part in
            let pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: part.count, alignment: 1)
            pointer.copyBytes(from: part)
            return pointer
        }
        defer { for pointer in pointers { pointer.deallocate() } }
        try file.write(gathering: pointers.map { UnsafeRawBufferPointer($0) }, at: 2)
        XCTAssertEqual(try file.readAll(), [0xEE, 0xEE] + joined)
    }
}

final class SyncSchedulerTests: XCTestCase {
    func testOnePassCompletesEveryWaiterAndSyncsEachFileOnce() throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/s")
        let a = try fs.openFile("/s/a", options: [.create])
        let b = try fs.openFile("/s/b", options: [.create])
        let scheduler = ManualSyncScheduler()
        let done = Counter()
        for file in [a, a, b, a] {
            try file.write([1], at: 0)
            scheduler.sync(file) { result in if case .success = result { done.increment() } }
        }
        XCTAssertEqual(done.value, 0, "nothing completes before the pass")
        XCTAssertEqual(fs.unsyncedBytes("/s/a"), 3)
        scheduler.runPass()
        XCTAssertEqual(done.value, 4)
        XCTAssertEqual(fs.syncCounts.files, 2)
        XCTAssertEqual(fs.unsyncedBytes("/s/a"), 0)
    }

    func testThreadedSchedulerGroupsRequestsAndAFailureIsFinal() throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/t")
        let good = try fs.openFile("/t/good", options: [.create])
        let failures = Counter()
        let scheduler = FsyncScheduler(onFailure: { _ in failures.increment() })
        defer { scheduler.shutdown() }
        let group = DispatchGroup()
        let ok = Counter()
        for _ in 0..<200 {
            group.enter()
            scheduler.sync(good) { result in
                if case .success = result { ok.increment() }
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(ok.value, 200)
        XCTAssertLessThanOrEqual(scheduler.passCount, 200)

        fs.failSyncs(underPath: "/t")
        let failed = Counter()
        for _ in 0..<2 {
            group.enter()
            scheduler.sync(good) { result in
                if case .failure(.syncFailed) = result { failed.increment() }
                group.leave()
            }
            XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        }
        XCTAssertEqual(failed.value, 2, "the first failure fails every later request too")
        XCTAssertEqual(failures.value, 1, "the owner hears of the failure once")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
