import RunnelCompression
import XCTest

final class CompressionTests: XCTestCase {
    func testIndependentlyCompressedFixturesDecompressToTheirPayloads() throws {
        XCTAssertEqual(IndependentFixtures.compressed.count, 8)
        for fixture in IndependentFixtures.compressed {
            let codec = try XCTUnwrap(CompressionCodec(name: fixture.codec))
            let expected = TestPayloads.named(fixture.payload)
            let output = try Compression.decompress(
                base64Bytes(fixture.base64), codec: codec, maxOutputBytes: expected.count)
            XCTAssertEqual(output, expected, fixture.name)
        }
    }

    func testEveryCodecRoundTripsEmptySmallAndLargeInputs() throws {
        let inputs: [[UInt8]] = [[], [42], TestPayloads.small, TestPayloads.large, pseudoRandomBytes(count: 200_000)]
        for codec in CompressionCodec.allCases {
            for input in inputs {
                let compressed = try Compression.compress(input, codec: codec)
                let output = try Compression.decompress(compressed, codec: codec, maxOutputBytes: input.count)
                XCTAssertEqual(output, input, "\(codec) with \(input.count) bytes")
            }
        }
    }

    func testSnappyOutputUsesTheXerialFramingOfTheJavaClient() throws {
        let compressed = try Compression.compress(TestPayloads.large, codec: .snappy)
        XCTAssertEqual(Array(compressed.prefix(8)), [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
        XCTAssertEqual(Array(compressed[8..<16]), [0, 0, 0, 1, 0, 0, 0, 1])
    }

    func testLZ4OutputUsesIndependentBlocksWhichTheJavaClientRequires() throws {
        let compressed = try Compression.compress(TestPayloads.large, codec: .lz4)
        XCTAssertEqual(Array(compressed.prefix(4)), [0x04, 0x22, 0x4D, 0x18])  // frame magic, little-endian
        let flags = compressed[4]
        XCTAssertEqual(flags >> 6, 1, "frame version")
        XCTAssertEqual(flags & 0x20, 0x20, "block independence flag")
    }

    func testDecompressionBombIsRefusedForEveryCodec() throws {
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        for codec in CompressionCodec.allCases {
            let compressed = try Compression.compress(zeros, codec: codec)
            XCTAssertThrowsError(try Compression.decompress(compressed, codec: codec, maxOutputBytes: 1 << 20)) {
                XCTAssertEqual($0 as? CompressionError, .outputLimitExceeded(codec, maxOutputBytes: 1 << 20), "\(codec)")
            }
        }
    }

    func testOutputExactlyAtTheLimitIsAcceptedAndOneByteOverIsNot() throws {
        let input = TestPayloads.large
        for codec in CompressionCodec.allCases {
            let compressed = try Compression.compress(input, codec: codec)
            XCTAssertEqual(try Compression.decompress(compressed, codec: codec, maxOutputBytes: input.count), input)
            XCTAssertThrowsError(try Compression.decompress(compressed, codec: codec, maxOutputBytes: input.count - 1)) {
                XCTAssertEqual($0 as? CompressionError, .outputLimitExceeded(codec, maxOutputBytes: input.count - 1))
            }
        }
    }

    func testTruncatedCompressedInputIsReportedCorrupt() throws {
        for codec in CompressionCodec.allCases where codec != .none {
            let compressed = try Compression.compress(TestPayloads.small, codec: codec)
            for length in [0, 1, compressed.count / 2, compressed.count - 1] {
                XCTAssertThrowsError(
                    try Compression.decompress(Array(compressed.prefix(length)), codec: codec, maxOutputBytes: 1 << 20)
                ) { error in
                    guard case .corruptInput(let reported, _) = error as? CompressionError else {
                        return XCTFail("\(codec) prefix \(length): \(error)")
                    }
                    XCTAssertEqual(reported, codec)
                }
            }
        }
    }

    func testGarbageInputIsReportedCorruptNotCrashed() throws {
        let garbage = pseudoRandomBytes(count: 4096)
        for codec in CompressionCodec.allCases where codec != .none {
            XCTAssertThrowsError(try Compression.decompress(garbage, codec: codec, maxOutputBytes: 1 << 20)) { error in
                guard case .corruptInput = error as? CompressionError else { return XCTFail("\(codec): \(error)") }
            }
        }
    }

    func testEveryFlippedByteOfACompressedStreamFailsCleanlyOrDecodes() throws {
        // Not every flip is detectable (snappy has no checksum), but none may crash or pass the bound.
        for codec in CompressionCodec.allCases where codec != .none {
            let compressed = try Compression.compress(TestPayloads.small, codec: codec)
            for index in compressed.indices {
                var damaged = compressed
                damaged[index] ^= 0x5A
                if let output = try? Compression.decompress(damaged, codec: codec, maxOutputBytes: 4096) {
                    XCTAssertLessThanOrEqual(output.count, 4096)
                }
            }
        }
    }

    func testXerialFramingWithAnOutOfRangeBlockLengthIsCorrupt() throws {
        var framed = try Compression.compress(TestPayloads.small, codec: .snappy)
        framed[16] = 0x7F  // first block length now far beyond the input
        XCTAssertThrowsError(try Compression.decompress(framed, codec: .snappy, maxOutputBytes: 1 << 20)) {
            guard case .corruptInput(.snappy, _) = $0 as? CompressionError else { return XCTFail("\($0)") }
        }
    }

    func testCodecIdsMatchKafkaAttributeBits() {
        XCTAssertEqual(CompressionCodec.allCases.map(\.rawValue), [0, 1, 2, 3, 4])
        XCTAssertEqual(CompressionCodec(attributeBits: 0x0B), .lz4)  // LogAppendTime bit ignored
        XCTAssertNil(CompressionCodec(attributeBits: 5))
        XCTAssertEqual(CompressionCodec(name: "ZSTD"), .zstd)
    }

    private func pseudoRandomBytes(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // fixed seed: the same bytes every run
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}
