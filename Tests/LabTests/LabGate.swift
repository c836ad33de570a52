import Foundation
import RunnelLab
import XCTest

/// Whether the scenarios may run. Outside CI with no lab they skip; under `make test-lab` (RUNNEL_LAB=1)
/// or CI=true a missing lab is a failure.
enum LabGate {
    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["RUNNEL_LAB"] == "1"
    }

    /// The seed scenario needs replication across nodes; set once the cluster issue lands.
    static var clustered: Bool { ProcessInfo.processInfo.environment["RUNNEL_LAB_CLUSTERED"] == "1" }

    /// A lab control whose three nodes were healed and answer, or a skip (outside CI) / error (in CI).
    static func requireLab() throws -> LabControl {
        guard let lab = LabControl.locate() else { throw missing("no docker client found on PATH") }
        // Only a lab whose containers exist is ours to heal; otherwise there is no lab at all.
        for node in LabNode.all where (try? lab.state(node)) == nil {
            throw missing("container \(node.container) does not exist")
        }
        try lab.heal()
        if let reason = lab.whyNotUp() { throw missing(reason) }
        return lab
    }

    private static func missing(_ reason: String) -> Error {
        if required { return LabError("the lab is required (CI=true or RUNNEL_LAB=1) but not up: \(reason); run `make up`") }
        return XCTSkip("no lab up: run `make up` (\(reason))")
    }
}
