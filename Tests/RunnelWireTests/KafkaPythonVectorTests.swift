import NIOCore
import XCTest
@testable import RunnelWire

/// Frames encoded by an independent client implementation (kafka-python 3.0.12's protocol
/// classes), pasted as hex. Each must decode completely and re-encode to the same bytes.
final class KafkaPythonVectorTests: XCTestCase {
    private static let requestFrames: [(name: String, hex: String)] = [
        ("metadata v1", "00000015000300010000000700026b70000000010003666f6f"),
        ("metadata v4", "00000016000300040000000700026b70000000010003666f6f00"),
        ("metadata v9", "00000017000300090000000700026b70000204666f6f0000000000"),
        ("metadata v12", "000000260003000c0000000700026b7000020000000000000000000000000000000004666f6f00000000"),
        ("apiversions v0", "0000000c001200000000000700026b70"),
        ("apiversions v3", "00000022001200030000000700026b70000d6b61666b612d707974686f6e07332e302e313200"),
        ("produce v3", "0000002a000000030000000700026b70ffffffff0000753000000001000174000000010000000000000003010203"),
        ("produce v9", "00000023000000090000000700026b700000ffff00007530020274020000000004010203000000"),
        ("fetch v4", "00000038000100040000000700026b70ffffffff000001f4000000010320000001000000010001740000000100000000000000000000006400100000"),
        ("fetch v11", "000000520001000b0000000700026b70ffffffff000001f400000001032000000100000000ffffffff000000010001740000000100000000000000050000000000000064ffffffffffffffff00100000000000000000"),
        ("fetch v12", "0000004f0001000c0000000700026b7000ffffffff000001f400000001032000000100000000ffffffff0202740200000000000000050000000000000064ffffffffffffffffffffffff001000000000010100"),
        ("joingroup v0", "00000030000b00000000000700026b700001670000271000000008636f6e73756d657200000001000572616e6765000000020001"),
        ("joingroup v5", "00000036000b00050000000700026b7000016700002710000493e00000ffff0008636f6e73756d657200000001000572616e6765000000020001"),
        ("joingroup v7", "0000002e000b00070000000700026b7000026700002710000493e0010009636f6e73756d6572020672616e67650300010000"),
        ("listoffsets v1", "00000027000200010000000700026b70ffffffff000000010001740000000100000000ffffffffffffffff"),
        ("listoffsets v7", "00000029000200070000000700026b7000ffffffff000202740200000000ffffffffffffffffffffffff000000"),
        ("offsetcommit v2", "00000037000800020000000700026b700001670000000300016dffffffffffffffff000000010001740000000100000000000000000000002a0000"),
        ("offsetcommit v8", "0000002e000800080000000700026b7000026700000003026d000202740200000000000000000000002affffffff01000000"),
        ("findcoordinator v3", "00000011000a00030000000700026b700002670000"),
        ("heartbeat v4", "00000017000c00040000000700026b7000026700000001026d0000"),
    ]

    func testRequestsFromKafkaPythonDecodeAndReencodeIdentically() throws {
        for (name, hex) in Self.requestFrames {
            var stream = ByteBuffer(bytes: bytes(fromHex: hex))
            let payload = try XCTUnwrap(try stream.readKafkaFrame(maxBytes: 1 << 20), name)
            XCTAssertEqual(stream.readableBytes, 0, name)
            let decoded = try RequestFrame.decode(payload: payload)
            XCTAssertEqual(decoded.header.correlationId, 7, name)
            XCTAssertEqual(decoded.header.clientId, "kp", name)
            XCTAssertEqual(decoded.trailingBytes, 0, name)
            var again = ByteBuffer()
            let header = decoded.header
            try header.encode(into: &again, version: RequestHeader.version(apiKey: header.apiKey, apiVersion: header.apiVersion))
            try decoded.request.encode(into: &again, version: header.apiVersion)
            XCTAssertEqual(again, payload, name)
        }
    }

    func testKafkaPythonFetchV12CarriesTheValuesItWasBuiltWith() throws {
        let hex = Self.requestFrames.first { $0.name == "fetch v12" }!.hex
        var stream = ByteBuffer(bytes: bytes(fromHex: hex))
        let decoded = try RequestFrame.decode(payload: try XCTUnwrap(try stream.readKafkaFrame(maxBytes: 1 << 20)))
        guard case .fetch(let fetch) = decoded.request else {
            return XCTFail("not a fetch: \(decoded.request)")
        }
        XCTAssertEqual(fetch.maxWaitMs, 500)
        XCTAssertEqual(fetch.maxBytes, 52_428_800)
        XCTAssertEqual(fetch.isolationLevel, 1)
        XCTAssertEqual(fetch.sessionEpoch, -1)
        XCTAssertEqual(fetch.topics.first?.topic, "t")
        XCTAssertEqual(fetch.topics.first?.partitions.first?.currentLeaderEpoch, 5)
        XCTAssertEqual(fetch.topics.first?.partitions.first?.fetchOffset, 100)
        XCTAssertEqual(fetch.topics.first?.partitions.first?.partitionMaxBytes, 1_048_576)
    }

    func testResponsesFromKafkaPythonDecodeAndReencodeIdentically() throws {
        try assertResponse(ApiVersionsResponse.self, version: 0, hex: "0000001600000009000000000002000000030009001200000003")
        try assertResponse(ApiVersionsResponse.self, version: 3, hex: "0000001a0000000900000300000003000900001200000003000000000000")
        try assertResponse(ProduceResponse.self, version: 2, hex: "00000029000000090000000100017400000001000000000000000000000000000affffffffffffffff00000000")
        try assertResponse(ProduceResponse.self, version: 9, hex: "00000030000000090002027402000000000000000000000000000affffffffffffffff0000000000000000010000000000000000")
        try assertResponse(MetadataResponse.self, version: 1, hex: "0000004900000009000000010000000100096c6f63616c686f737400002384ffff0000000100000001000000017400000000010000000000000000000100000001000000010000000100000001")
        try assertResponse(MetadataResponse.self, version: 12, hex: "0000005d00000009000000000002000000010a6c6f63616c686f7374000023840000046162630000000102000002740000000000000000000000000000000000020000000000000000000100000000020000000102000000010100800000000000")
    }

    private func assertResponse<Message: KafkaResponseMessage>(_ type: Message.Type, version: Int16, hex: String) throws {
        let name = "\(Message.self) v\(version)"
        let frame = ByteBuffer(bytes: bytes(fromHex: hex))
        var stream = frame
        let payload = try XCTUnwrap(try stream.readKafkaFrame(maxBytes: 1 << 20), name)
        let (header, message) = try ResponseFrame.decode(Message.self, version: version, payload: payload)
        XCTAssertEqual(header.correlationId, 9, name)
        var again = ByteBuffer()
        try ResponseFrame.encode(message, version: version, correlationId: 9, into: &again)
        XCTAssertEqual(again, frame, name)
    }
}

func bytes(fromHex hex: String) -> [UInt8] {
    precondition(hex.count % 2 == 0, "odd-length hex")
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}
