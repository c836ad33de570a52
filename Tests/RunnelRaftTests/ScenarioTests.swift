import XCTest

/// Scripted scenarios (testdata/*.txt); regenerate expected output with RUNNEL_REWRITE=1.
final class ScenarioTests: XCTestCase {
    func testBasicElectionAndReplication() throws { try ScriptRunner.run("basic") }
}
