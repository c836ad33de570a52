import NIOCore
import XCTest
@testable import RunnelWire

/// Input from the network must produce errors, never traps or runaway allocation.
final class HostileInputTests: XCTestCase {
    func testEveryTruncationOfEveryMessageIsAnError() throws {
        for type in allSampledMessageTypes {
            try assertEveryPrefixFails(type)
        }
    }

    func testRandomBytesNeverCrashAnyDecoder() {
        var random = SplitMix64(seed: 0x5EED)
        for type in allSampledMessageTypes {
            for version in type.versions {
                for _ in 0..<50 {
                    let length = Int(random.next() % 64)
                    var buffer = ByteBuffer(bytes: (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) })
                    _ = try? type.init(from: &buffer, version: version)
                }
            }
        }
    }

    func testFlippedBytesInValidMessagesNeverCrash() throws {
        var random = SplitMix64(seed: 42)
        for type in allSampledMessageTypes {
            try assertMutationsDoNotCrash(type, random: &random)
        }
    }

    func testRandomFramesNeverCrashTheRequestDecoder() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            var bytes = (0..<Int(random.next() % 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if bytes.count >= 4 {
                // Aim at real APIs and versions often enough to get past the header.
                let key = ApiKey.allCases[Int(random.next() % UInt64(ApiKey.allCases.count))]
                bytes[0] = 0
                bytes[1] = UInt8(key.rawValue)
                bytes[2] = 0
                bytes[3] = UInt8(random.next() % 14)
            }
            _ = try? RequestFrame.decode(payload: ByteBuffer(bytes: bytes))
        }
    }

    private func assertEveryPrefixFails<Message: SampledMessage>(_ type: Message.Type) throws {
        for version in Message.versions {
            var full = ByteBuffer()
            try Message.sample(version: version, nulls: false).encode(into: &full, version: version)
            for length in 0..<full.readableBytes {
                var prefix = full.getSlice(at: full.readerIndex, length: length)!
                XCTAssertThrowsError(try Message(from: &prefix, version: version), "\(Message.self) v\(version) prefix \(length)")
            }
        }
    }

    private func assertMutationsDoNotCrash<Message: SampledMessage>(
        _ type: Message.Type, random: inout SplitMix64
    ) throws {
        for version in Message.versions {
            var full = ByteBuffer()
            try Message.sample(version: version, nulls: false).encode(into: &full, version: version)
            let bytes = Array(full.readableBytesView)
            if bytes.isEmpty {
                continue  // e.g. ApiVersions v0 request: nothing to flip
            }
            for _ in 0..<20 {
                var mutated = bytes
                for _ in 0..<3 {
                    mutated[Int(random.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                var buffer = ByteBuffer(bytes: mutated)
                _ = try? Message(from: &buffer, version: version)
            }
        }
    }
}

/// Small seeded generator so failures replay exactly.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
