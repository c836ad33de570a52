import RunnelStorage
import XCTest

final class SimulatedFileSystemTests: XCTestCase {
    func makeDurableFile(_ fs: SimulatedFileSystem, _ path: String, _ bytes: [UInt8]) throws -> any StorageFile {
        try fs.createDirectory(Path.parent(of: path))
        try fs.syncDirectory("/")
        try fs.syncDirectory(Path.parent(of: path))
        let file = try fs.openFile(path, options: [.create])
        try file.write(bytes, at: 0)
        try file.sync()
        try fs.syncDirectory(Path.parent(of: path))
        return file
    }

    func testCrashDropsUnsyncedBytesAndKeepsSyncedOnes() throws {
        let fs = SimulatedFileSystem()
        let file = try makeDurableFile(fs, "/data/a", [1, 2, 3])
        try file.write([4, 5], at: 3)
        XCTAssertEqual(try file.readAll(), [1, 2, 3, 4, 5])
        XCTAssertEqual(fs.unsyncedBytes("/data/a"), 2)
        fs.crash()
        XCTAssertThrowsError(try file.size(), "a handle from before the crash is dead")
        XCTAssertEqual(try fs.openFile("/data/a", options: []).readAll(), [1, 2, 3])
    }

    func testCrashTearsTheUnsyncedWritesAtEveryByteBoundary() throws {
        for keep in 0...5 {
            let fs = SimulatedFileSystem()
            let file = try makeDurableFile(fs, "/d/f", [9])
            try file.write([1, 2], at: 1)
            try file.write([3, 4, 5], at: 3)
            fs.crash(.keepUnsyncedBytes(["/d/f": keep]))
            let expected: [UInt8] = Array([9, 1, 2, 3, 4, 5].prefix(1 + keep))
            XCTAssertEqual(try fs.openFile("/d/f", options: []).readAll(), expected, "keep \(keep)")
        }
    }

    func testNewFileNameIsLostWithoutDirectorySync() throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/d")
        try fs.syncDirectory("/")
        let file = try fs.openFile("/d/new", options: [.create])
        try file.write([1], at: 0)
        try file.sync()
        fs.crash()
        XCTAssertFalse(fs.fileExists("/d/new"))
        XCTAssertTrue(fs.directoryExists("/d"))
    }

    func testDirectoryNotSyncedIntoItsParentVanishesWithItsFiles() throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/a/b")
        try fs.syncDirectory("/a")  // b is durable in a, but a is not durable in /
        let file = try fs.openFile("/a/b/f", options: [.create])
        try file.sync()
        try fs.syncDirectory("/a/b")
        fs.crash()
        XCTAssertFalse(fs.directoryExists("/a"))
        XCTAssertFalse(fs.fileExists("/a/b/f"))
    }

    func testAtomicWriteLeavesOldOrNewContentAfterACrash() throws {
        let fs = SimulatedFileSystem()
        try fs.createDirectory("/c")
        try fs.syncDirectory("/")
        try fs.writeAtomically([1, 1], to: "/c/checkpoint")
        try fs.writeAtomically([2, 2, 2], to: "/c/checkpoint")
        fs.crash(.seeded(7))
        XCTAssertEqual(try fs.openFile("/c/checkpoint", options: []).readAll(), [2, 2, 2])
    }

    func testRenameWithoutDirectorySyncIsUndoneByACrash() throws {
        let fs = SimulatedFileSystem()
        _ = try makeDurableFile(fs, "/r/old", [7])
        try fs.rename(from: "/r/old", to: "/r/new")
        fs.crash()
        XCTAssertTrue(fs.fileExists("/r/old"))
        XCTAssertFalse(fs.fileExists("/r/new"))
    }

    func testInjectedSyncFailureIsReported() throws {
        let fs = SimulatedFileSystem()
        let file = try makeDurableFile(fs, "/bad/f", [1])
        fs.failSyncs(underPath: "/bad")
        try file.write([2], at: 1)
        XCTAssertThrowsError(try file.sync()) { error in
            XCTAssertEqual(error as? StorageError, .syncFailed(path: "/bad/f", errno: 5))
        }
    }

    func testWipeLeavesAnEmptyDisk() throws {
        let fs = SimulatedFileSystem()
        _ = try makeDurableFile(fs, "/w/f", [1])
        fs.wipe()
        XCTAssertFalse(fs.fileExists("/w/f"))
        XCTAssertEqual(try fs.contentsOfDirectory("/"), [])
    }
}
