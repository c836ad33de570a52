import Foundation
import NIOCore
import RunnelChecksum
import RunnelCompression
import XCTest

@testable import RunnelRecords

enum TestPayloads {
    static let small: [UInt8] = Array(String(repeating: "runnel ", count: 300).utf8) + (0...255).map { UInt8($0) }
    static let large: [UInt8] = Array((0..<5000).map { "record-\($0);" }.joined().utf8)

    static func named(_ name: String) -> [UInt8] {
        switch name {
        case "small": small
        case "smallTwice": small + small
        case "large": large
        default: preconditionFailure("unknown payload \(name)")
        }
    }
}

func base64Bytes(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
    guard let data = Data(base64Encoded: text) else {
        XCTFail("fixture is not base64", file: file, line: line)
        return []
    }
    return Array(data)
}

func byteBuffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// Recomputes the CRC of the batch at `index` after a test edited bytes inside it.
/// Computed with RunnelChecksum directly so it also works on headers our parser refuses.
func reseal(_ buffer: inout ByteBuffer, at index: Int = 0) throws {
    let totalSize = Int(try XCTUnwrap(buffer.getInteger(at: index + 8, as: Int32.self))) + 12
    let view = try XCTUnwrap(buffer.viewBytes(at: index + 21, length: totalSize - 21))
    buffer.setInteger(CRC32C.checksum(view), at: index + 17)
}

/// The records kafka-python was given (see the fixture generator), with offsets from 0.
let kafkaPythonExpectedRecords: [Record] = [
    Record(
        offset: 0, timestampMs: 1_700_000_000_000, key: Array("k0".utf8), value: Array("v0".utf8),
        headers: [RecordHeader(key: "h1", value: Array("x".utf8)), RecordHeader(key: "h2", value: [])]),
    Record(
        offset: 1, timestampMs: 1_700_000_000_005, key: nil,
        value: Array(String(repeating: "value-1", count: 20).utf8)),
    Record(
        offset: 2, timestampMs: 1_699_999_999_990, key: Array("k2".utf8), value: nil,
        headers: [RecordHeader(key: "trace", value: [0x00, 0xFF])]),
]

func makeBatch(
    codec: CompressionCodec = .none, baseOffset: Int64 = 0, count: Int = 3, timestampMs: Int64 = 1_000,
    producerId: Int64 = -1
) throws -> ByteBuffer {
    var builder = RecordBatchBuilder(baseOffset: baseOffset, codec: codec, producerId: producerId)
    for i in 0..<count {
        builder.append(
            key: Array("key-\(i)".utf8), value: Array("value-\(i)".utf8),
            headers: [RecordHeader(key: "n", value: [UInt8(i & 0xFF)])], timestampMs: timestampMs + Int64(i))
    }
    return try builder.build()
}

func XCTAssertThrowsBatchError(
    _ expression: @autoclosure () throws -> some Any, kafkaErrorCode: Int16,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        guard let batchError = error as? RecordBatchError else {
            return XCTFail("unexpected error \(error)", file: file, line: line)
        }
        XCTAssertEqual(batchError.kafkaErrorCode, kafkaErrorCode, "\(batchError)", file: file, line: line)
    }
}
