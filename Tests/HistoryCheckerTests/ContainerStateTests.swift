import RunnelLab
import XCTest

final class ContainerStateTests: XCTestCase {
    func testARunningHealthyNodeOnBothNetworksIsRead() throws {
        let state = try XCTUnwrap(LabControl.ContainerState(
            inspectLine: "true|false|healthy|runnel-client=172.28.1.11;runnel-cluster=172.28.2.11;"))
        XCTAssertTrue(state.running)
        XCTAssertFalse(state.paused)
        XCTAssertEqual(state.health, "healthy")
        XCTAssertEqual(state.networks, ["runnel-client": "172.28.1.11", "runnel-cluster": "172.28.2.11"])
        XCTAssertEqual(state.clientNetwork?.network, "runnel-client")
        XCTAssertEqual(state.clientNetwork?.address, "172.28.1.11")
    }

    func testANodeCutOffFromClientsHasNoClientNetwork() throws {
        let state = try XCTUnwrap(LabControl.ContainerState(inspectLine: "true|false|healthy|runnel-cluster=172.28.2.13;"))
        XCTAssertNil(state.clientNetwork)
    }

    func testAKilledNodeWithoutHealthCheckIsRead() throws {
        // A stopped container stays attached to its networks but has no address on them.
        let state = try XCTUnwrap(LabControl.ContainerState(inspectLine: "false|false|none|runnel-client=;"))
        XCTAssertFalse(state.running)
        XCTAssertEqual(state.health, "none")
        XCTAssertEqual(state.networks, ["runnel-client": ""])
        XCTAssertNil(state.clientNetwork)
    }

    func testOtherShapesAreRefused() {
        XCTAssertNil(LabControl.ContainerState(inspectLine: ""))
        XCTAssertNil(LabControl.ContainerState(inspectLine: "Error: No such object: runnel-node1"))
        XCTAssertNil(LabControl.ContainerState(inspectLine: "yes|no|healthy|"))
    }

    func testNodesFollowTheLabContract() {
        XCTAssertEqual(LabNode.all.map(\.container), ["runnel-node1", "runnel-node2", "runnel-node3"])
        XCTAssertEqual(LabNode.all.map(\.bootstrap), ["172.28.1.11:9092", "172.28.1.12:9092", "172.28.1.13:9092"])
        XCTAssertEqual(LabNode(2).clusterHost, "172.28.2.12")
    }
}
