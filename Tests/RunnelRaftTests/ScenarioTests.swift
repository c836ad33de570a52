import XCTest

/// Scripted scenarios (testdata/*.txt); regenerate expected output with RUNNEL_REWRITE=1.
final class ScenarioTests: XCTestCase {
    func testBasicElectionAndReplication() throws { try ScriptRunner.run("basic") }
    func testFigure7NewLeaderRepairsDivergentFollowers() throws { try ScriptRunner.run("figure7") }
    func testFigure8OlderTermEntryIsNotCommittedByCounting() throws { try ScriptRunner.run("figure8") }
    func testFigure8FaultCommitsOlderTermEntryThatIsLaterOverwritten() throws { try ScriptRunner.run("figure8-fault") }
    func testPreVoteKeepsPartitionedNodeFromInflatingTerm() throws { try ScriptRunner.run("prevote-rejoin") }
    func testCheckQuorumIsolatedLeaderStepsDown() throws { try ScriptRunner.run("checkquorum") }
    func testIsolatedLeaderProposalsAreNeverCommittedAndOverwritten() throws { try ScriptRunner.run("isolated-leader") }
    func testLaggingFollowerReceivesSnapshot() throws { try ScriptRunner.run("snapshot") }
    func testLeadershipTransfer() throws { try ScriptRunner.run("transfer") }
    func testMembershipGrowsOneServerAtATime() throws { try ScriptRunner.run("membership") }
    func testWipedVoterIsNotCountedUntilReaddedAsLearner() throws { try ScriptRunner.run("wiped-voter") }
    func testRestartLosesOnlyUnpersistedStateAndNeverVotesTwice() throws { try ScriptRunner.run("restart") }
}
