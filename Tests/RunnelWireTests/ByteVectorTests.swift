import NIOCore
import XCTest
@testable import RunnelWire

/// Byte layouts worked out by hand from the message specs, written out in full.
final class ByteVectorTests: XCTestCase {
    private func encoded(_ body: (inout ByteBuffer) throws -> Void) rethrows -> [UInt8] {
        var buffer = ByteBuffer()
        try body(&buffer)
        return Array(buffer.readableBytesView)
    }

    func testRequestHeaderV2KeepsClientIdAsClassicString() throws {
        let header = RequestHeader(apiKey: .metadata, apiVersion: 12, correlationId: 7, clientId: "rdkafka")
        let expected: [UInt8] = [
            0x00, 0x03,  // api key 3 (Metadata)
            0x00, 0x0C,  // api version 12
            0x00, 0x00, 0x00, 0x07,  // correlation id
            0x00, 0x07, 0x72, 0x64, 0x6B, 0x61, 0x66, 0x6B, 0x61,  // int16 length + "rdkafka"
            0x00,  // no tagged fields
        ]
        XCTAssertEqual(try encoded { try header.encode(into: &$0, version: 2) }, expected)
        var input = ByteBuffer(bytes: expected)
        XCTAssertEqual(try RequestHeader(from: &input, version: 2), header)
        XCTAssertEqual(input.readableBytes, 0)
    }

    func testApiVersionsV0RequestFrameIsHeaderV1AndEmptyBody() throws {
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x0B,  // size 11
            0x00, 0x12,  // api key 18
            0x00, 0x00,  // version 0
            0x00, 0x00, 0x00, 0x01,  // correlation id 1
            0x00, 0x01, 0x63,  // client id "c"
        ]
        XCTAssertEqual(try encoded {
            try RequestFrame.encode(ApiVersionsRequest(), version: 0, correlationId: 1, clientId: "c", into: &$0)
        }, expected)
        var frame = ByteBuffer(bytes: expected)
        let payload = try XCTUnwrap(try frame.readKafkaFrame(maxBytes: 1024))
        let decoded = try RequestFrame.decode(payload: payload)
        XCTAssertEqual(decoded.header, RequestHeader(apiKey: .apiVersions, apiVersion: 0, correlationId: 1, clientId: "c"))
        XCTAssertEqual(decoded.request, .apiVersions(ApiVersionsRequest()))
    }

    func testApiVersionsV3RequestUsesCompactStringsAndTaggedFields() throws {
        let request = ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.3.0")
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x1E,  // size 30
            0x00, 0x12, 0x00, 0x03,  // api key 18, version 3
            0x00, 0x00, 0x00, 0x02,  // correlation id 2
            0x00, 0x01, 0x63,  // client id "c", classic even in header v2
            0x00,  // header tagged fields
            0x0B, 0x6C, 0x69, 0x62, 0x72, 0x64, 0x6B, 0x61, 0x66, 0x6B, 0x61,  // compact "librdkafka"
            0x06, 0x32, 0x2E, 0x33, 0x2E, 0x30,  // compact "2.3.0"
            0x00,  // body tagged fields
        ]
        XCTAssertEqual(try encoded {
            try RequestFrame.encode(request, version: 3, correlationId: 2, clientId: "c", into: &$0)
        }, expected)
        let decoded = try RequestFrame.decode(payload: ByteBuffer(bytes: expected.dropFirst(4)))
        XCTAssertEqual(decoded.request, .apiVersions(request))
        XCTAssertEqual(decoded.trailingBytes, 0)
    }

    func testApiVersionsV3RequestSkipsUnknownTaggedFields() throws {
        let body: [UInt8] = [
            0x02, 0x61,  // compact "a"
            0x02, 0x62,  // compact "b"
            0x02,  // two tagged fields, both unknown
            0x07, 0x02, 0xAA, 0xBB,  // tag 7, 2 bytes
            0x21, 0x00,  // tag 33, empty
        ]
        var input = ByteBuffer(bytes: body)
        let decoded = try ApiVersionsRequest(from: &input, version: 3)
        XCTAssertEqual(decoded, ApiVersionsRequest(clientSoftwareName: "a", clientSoftwareVersion: "b"))
        XCTAssertEqual(input.readableBytes, 0)
    }

    func testApiVersionsV3ResponseHasHeaderV0AndTaggedFinalizedEpoch() throws {
        var response = ApiVersionsResponse()
        response.apiKeys = [ApiVersionsResponse.ApiVersion(apiKey: 0, minVersion: 3, maxVersion: 9)]
        response.finalizedFeaturesEpoch = 5
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x1D,  // size 29
            0x00, 0x00, 0x00, 0x02,  // response header v0: correlation id only
            0x00, 0x00,  // error code
            0x02,  // compact array of one
            0x00, 0x00, 0x00, 0x03, 0x00, 0x09, 0x00,  // key 0, min 3, max 9, no tags
            0x00, 0x00, 0x00, 0x00,  // throttle time
            0x01,  // one tagged field
            0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // tag 1, 8 bytes: epoch 5
        ]
        XCTAssertEqual(try encoded {
            try ResponseFrame.encode(response, version: 3, correlationId: 2, into: &$0)
        }, expected)
        let (header, decoded) = try ResponseFrame.decode(
            ApiVersionsResponse.self, version: 3, payload: ByteBuffer(bytes: expected.dropFirst(4)))
        XCTAssertEqual(header.correlationId, 2)
        XCTAssertEqual(decoded, response)
    }

    func testMetadataV12RequestBody() throws {
        var request = MetadataRequest()
        request.topics = [MetadataRequest.MetadataRequestTopic(topicId: .zero, name: "foo")]
        request.allowAutoTopicCreation = true
        let expected: [UInt8] = [
            0x02,  // compact array of one topic
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // topic id (zero UUID)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x04, 0x66, 0x6F, 0x6F,  // compact "foo"
            0x00,  // topic tagged fields
            0x01,  // allow auto topic creation
            0x00,  // include topic authorized operations (cluster flag is gone since v11)
            0x00,  // tagged fields
        ]
        XCTAssertEqual(try encoded { try request.encode(into: &$0, version: 12) }, expected)
        var input = ByteBuffer(bytes: expected)
        XCTAssertEqual(try MetadataRequest(from: &input, version: 12), request)
    }

    func testMetadataV12RequestForAllTopicsHasNullArray() throws {
        var request = MetadataRequest()
        request.topics = nil
        XCTAssertEqual(try encoded { try request.encode(into: &$0, version: 12) }, [0x00, 0x01, 0x00, 0x00])
        XCTAssertEqual(try encoded { try request.encode(into: &$0, version: 1) }, [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try encoded { try request.encode(into: &$0, version: 0) }) {
            XCTAssertEqual($0 as? WireError, .unexpectedNull(field: "MetadataRequest.topics"))
        }
    }

    func testProduceV3RequestBody() throws {
        let request = ProduceRequest(
            transactionalId: nil, acks: -1, timeoutMs: 1000,
            topicData: [.init(name: "t", partitionData: [.init(index: 0, records: ByteBuffer(bytes: [0xAA, 0xBB, 0xCC]))])])
        let expected: [UInt8] = [
            0xFF, 0xFF,  // null transactional id
            0xFF, 0xFF,  // acks -1
            0x00, 0x00, 0x03, 0xE8,  // timeout 1000 ms
            0x00, 0x00, 0x00, 0x01,  // one topic
            0x00, 0x01, 0x74,  // "t"
            0x00, 0x00, 0x00, 0x01,  // one partition
            0x00, 0x00, 0x00, 0x00,  // index 0
            0x00, 0x00, 0x00, 0x03, 0xAA, 0xBB, 0xCC,  // records
        ]
        XCTAssertEqual(try encoded { try request.encode(into: &$0, version: 3) }, expected)
        var input = ByteBuffer(bytes: expected)
        XCTAssertEqual(try ProduceRequest(from: &input, version: 3), request)
    }

    func testFetchV12ResponseWritesOnlyNonDefaultTaggedFields() throws {
        var partition = FetchResponse.PartitionData()
        partition.partitionIndex = 1
        partition.highWatermark = 10
        partition.lastStableOffset = 10
        partition.logStartOffset = 0
        partition.currentLeader = FetchResponse.LeaderIdAndEpoch(leaderId: 2, leaderEpoch: 3)
        partition.records = nil
        var response = FetchResponse()
        response.responses = [FetchResponse.FetchableTopicResponse(topic: "t", partitions: [partition])]
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x00,  // throttle
            0x00, 0x00,  // error code
            0x00, 0x00, 0x00, 0x00,  // session id
            0x02, 0x02, 0x74,  // one topic, "t"
            0x02,  // one partition
            0x00, 0x00, 0x00, 0x01,  // partition index
            0x00, 0x00,  // error code
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A,  // high watermark
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A,  // last stable offset
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // log start offset
            0x01,  // aborted transactions: empty compact array
            0xFF, 0xFF, 0xFF, 0xFF,  // preferred read replica -1
            0x00,  // null records
            0x01,  // one tagged field: current leader
            0x01, 0x09,  // tag 1, 9 bytes
            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00,  // leader 2, epoch 3, no tags
            0x00,  // topic tagged fields
            0x00,  // response tagged fields
        ]
        XCTAssertEqual(try encoded { try response.encode(into: &$0, version: 12) }, expected)
        var input = ByteBuffer(bytes: expected)
        XCTAssertEqual(try FetchResponse(from: &input, version: 12), response)
    }
}
