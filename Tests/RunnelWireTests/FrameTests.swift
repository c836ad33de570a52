import NIOCore
import XCTest
@testable import RunnelWire

final class FrameTests: XCTestCase {
    func testRequestFrameDecodesHeaderAndDispatchesToTheApi() throws {
        let request = ProduceRequest.sample(version: 9, nulls: false)
        var wire = ByteBuffer()
        try RequestFrame.encode(request, version: 9, correlationId: 77, clientId: "producer-1", into: &wire)
        let payload = try XCTUnwrap(try wire.readKafkaFrame(maxBytes: 1 << 20))
        XCTAssertEqual(wire.readableBytes, 0)
        let decoded = try RequestFrame.decode(payload: payload)
        XCTAssertEqual(decoded.header, RequestHeader(apiKey: .produce, apiVersion: 9, correlationId: 77, clientId: "producer-1"))
        XCTAssertEqual(decoded.request, .produce(request))
        XCTAssertEqual(decoded.request.apiKey, .produce)
        XCTAssertEqual(decoded.trailingBytes, 0)
    }

    func testUnknownApiKeyReportsTheCorrelationId() {
        let payload = ByteBuffer(bytes: [0x03, 0xE7, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x00])
        XCTAssertThrowsError(try RequestFrame.decode(payload: payload)) {
            XCTAssertEqual($0 as? RequestFrameError, .unknownApiKey(apiKey: 999, apiVersion: 1, correlationId: 42))
            XCTAssertEqual(($0 as? RequestFrameError)?.correlationId, 42)
        }
    }

    func testUnsupportedVersionReportsApiAndCorrelationIdBeforeParsingTheRest() {
        // ApiVersions v4 (beyond our range) with a body we never look at.
        let payload = ByteBuffer(bytes: [0x00, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0xDE, 0xAD])
        XCTAssertThrowsError(try RequestFrame.decode(payload: payload)) {
            XCTAssertEqual($0 as? RequestFrameError, .unsupportedVersion(apiKey: .apiVersions, apiVersion: 4, correlationId: 5))
        }
        let produceV10 = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x06])
        XCTAssertThrowsError(try RequestFrame.decode(payload: produceV10)) {
            XCTAssertEqual($0 as? RequestFrameError, .unsupportedVersion(apiKey: .produce, apiVersion: 10, correlationId: 6))
        }
    }

    func testMalformedBodyKeepsTheHeaderFieldsForTheAnswer() throws {
        var wire = ByteBuffer()
        try RequestFrame.encode(MetadataRequest.sample(version: 12, nulls: false), version: 12, correlationId: 9, clientId: nil, into: &wire)
        var payload = try XCTUnwrap(try wire.readKafkaFrame(maxBytes: 1 << 20))
        payload.moveWriterIndex(to: payload.writerIndex - 3)
        XCTAssertThrowsError(try RequestFrame.decode(payload: payload)) { error in
            guard case .malformed(.metadata, 12, 9, _) = error as? RequestFrameError else {
                return XCTFail("unexpected \(error)")
            }
        }
    }

    func testPayloadShorterThanTheFixedHeaderIsMalformedWithoutCorrelationId() {
        XCTAssertThrowsError(try RequestFrame.decode(payload: ByteBuffer(bytes: [0x00, 0x03, 0x00]))) {
            XCTAssertEqual(($0 as? RequestFrameError)?.correlationId, nil)
        }
    }

    func testTrailingBytesAreReportedNotRejected() throws {
        var wire = ByteBuffer()
        try RequestFrame.encode(ApiVersionsRequest(), version: 2, correlationId: 1, clientId: "c", into: &wire)
        var payload = try XCTUnwrap(try wire.readKafkaFrame(maxBytes: 100))
        payload.writeBytes([1, 2, 3])
        XCTAssertEqual(try RequestFrame.decode(payload: payload).trailingBytes, 3)
    }

    func testHeaderVersionsFollowFlexibleVersionsExceptApiVersionsResponse() {
        XCTAssertEqual(RequestHeader.version(apiKey: .metadata, apiVersion: 8), 1)
        XCTAssertEqual(RequestHeader.version(apiKey: .metadata, apiVersion: 9), 2)
        XCTAssertEqual(ResponseHeader.version(apiKey: .metadata, apiVersion: 8), 0)
        XCTAssertEqual(ResponseHeader.version(apiKey: .metadata, apiVersion: 9), 1)
        XCTAssertEqual(RequestHeader.version(apiKey: .apiVersions, apiVersion: 3), 2)
        XCTAssertEqual(ResponseHeader.version(apiKey: .apiVersions, apiVersion: 3), 0)
        XCTAssertEqual(ResponseHeader.version(apiKey: .describeCluster, apiVersion: 0), 1)
        XCTAssertEqual(RequestHeader.version(apiKey: .produce, apiVersion: 8), 1)
    }

    func testResponseFrameRoundTripsThroughTheEnumAndTheConcreteType() throws {
        let response = MetadataResponse.sample(version: 12, nulls: false)
        var viaEnum = ByteBuffer()
        try ResponseFrame.encode(KafkaResponse.metadata(response), version: 12, correlationId: 3, into: &viaEnum)
        var viaType = ByteBuffer()
        try ResponseFrame.encode(response, version: 12, correlationId: 3, into: &viaType)
        XCTAssertEqual(viaEnum, viaType)
        let payload = try XCTUnwrap(try viaEnum.readKafkaFrame(maxBytes: 1 << 20))
        XCTAssertEqual(ResponseFrame.correlationId(of: payload), 3)
        let (header, decoded) = try ResponseFrame.decode(MetadataResponse.self, version: 12, payload: payload)
        XCTAssertEqual(header.correlationId, 3)
        XCTAssertEqual(decoded, response)
    }

    func testFailedEncodeLeavesTheBufferUntouched() {
        var buffer = ByteBuffer(bytes: [0xAB])
        let bad = ProduceRequest(transactionalId: "txn")
        XCTAssertThrowsError(try RequestFrame.encode(bad, version: 2, correlationId: 1, clientId: nil, into: &buffer))
        XCTAssertEqual(buffer, ByteBuffer(bytes: [0xAB]))
        var response = FetchResponse()
        response.responses = [.init(topic: "t", partitions: [.init(preferredReadReplica: 4)])]
        XCTAssertThrowsError(try ResponseFrame.encode(response, version: 10, correlationId: 1, into: &buffer))
        XCTAssertEqual(buffer, ByteBuffer(bytes: [0xAB]))
    }

    func testFrameSplitterWaitsForWholeFramesAndRejectsHostileSizes() throws {
        var partial = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 0x01, 0x02])
        XCTAssertNil(try partial.readKafkaFrame(maxBytes: 100))
        XCTAssertEqual(partial.readableBytes, 6)
        partial.writeBytes([0x03, 0x09])
        XCTAssertEqual(try partial.readKafkaFrame(maxBytes: 100), ByteBuffer(bytes: [0x01, 0x02, 0x03]))
        XCTAssertEqual(partial.readableBytes, 1)
        var tooBig = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try tooBig.readKafkaFrame(maxBytes: 100 << 20))
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try negative.readKafkaFrame(maxBytes: 100))
    }
}
