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
}
