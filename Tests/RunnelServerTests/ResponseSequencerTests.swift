import XCTest

@testable import RunnelServer

final class ResponseSequencerTests: XCTestCase {
    func testResponsesFinishedOutOfOrderAreReleasedInRequestOrder() {
        var sequencer = ResponseSequencer<String>(inFlightMax: 10)
        let a = sequencer.admit()
        let b = sequencer.admit()
        let c = sequencer.admit()
        XCTAssertEqual(sequencer.complete(c, response: "c"), [])
        XCTAssertEqual(sequencer.complete(b, response: "b"), [])
        XCTAssertEqual(sequencer.complete(a, response: "a"), ["a", "b", "c"])
        XCTAssertEqual(sequencer.inFlight, 0)
    }

    func testNoResponseDoesNotHoldBackLaterResponses() {
        var sequencer = ResponseSequencer<String>(inFlightMax: 10)
        let a = sequencer.admit()
        let b = sequencer.admit()
        XCTAssertEqual(sequencer.complete(b, response: "b"), [])
        XCTAssertEqual(sequencer.complete(a, response: nil), ["b"])
    }

    func testAdmissionStopsAtTheInFlightLimitUntilTheOldestIsReleased() {
        var sequencer = ResponseSequencer<Int>(inFlightMax: 2)
        let a = sequencer.admit()
        let b = sequencer.admit()
        XCTAssertFalse(sequencer.canAdmit)
        // A later completion does not free a slot: its response is still parked behind `a`.
        _ = sequencer.complete(b, response: 2)
        XCTAssertFalse(sequencer.canAdmit)
        XCTAssertEqual(sequencer.complete(a, response: 1), [1, 2])
        XCTAssertTrue(sequencer.canAdmit)
    }

    func testAdmissionStopsAtTheByteLimitButAlwaysTakesOneRequest() {
        var sequencer = ResponseSequencer<Int>(inFlightMax: 10, inFlightBytesMax: 100)
        XCTAssertTrue(sequencer.canAdmit(bytes: 500), "one request is admitted however large")
        let a = sequencer.admit(bytes: 500)
        XCTAssertFalse(sequencer.canAdmit(bytes: 1))
        XCTAssertFalse(sequencer.canAdmit)
        XCTAssertEqual(sequencer.complete(a, response: 1), [1])
        XCTAssertEqual(sequencer.inFlightBytes, 0)
        let b = sequencer.admit(bytes: 60)
        XCTAssertTrue(sequencer.canAdmit(bytes: 40))
        XCTAssertFalse(sequencer.canAdmit(bytes: 41))
        let c = sequencer.admit(bytes: 40)
        XCTAssertFalse(sequencer.canAdmit)
        // Bytes are released with the response, in request order: c's wait behind b's.
        _ = sequencer.complete(c, response: 3)
        XCTAssertEqual(sequencer.inFlightBytes, 100)
        XCTAssertEqual(sequencer.complete(b, response: 2), [2, 3])
        XCTAssertEqual(sequencer.inFlightBytes, 0)
    }
}
