import RunnelRaft
import XCTest

final class RaftNodeTests: XCTestCase {
    func testMembershipEncodingRoundTripsAndRejectsGarbage() {
        let membership = Membership(voters: [voter(1), voter(2, generation: 7)], learners: [voter(9)])
        XCTAssertEqual(Membership(decoding: membership.encoded()), membership)
        XCTAssertNil(Membership(decoding: []))
        XCTAssertNil(Membership(decoding: Array(membership.encoded().dropLast())))
        XCTAssertNil(Membership(decoding: membership.encoded() + [0]))
        XCTAssertNil(Membership(decoding: [1, 0xFF, 0xFF, 0xFF, 0xFF]))
    }

    func testSingleVoterCommitsProposalInOneReady() throws {
        var node = makeNode(1, voters: [1])
        node.campaign()
        XCTAssertEqual(node.role, .leader)
        _ = node.drain()
        let index = try node.propose(Array("x".utf8))
        let ready = node.drain()
        XCTAssertEqual(ready.entries.map(\.index), [index])
        XCTAssertEqual(ready.committedEntries.map(\.data), [Array("x".utf8)])
        XCTAssertEqual(ready.hardState?.commit, index)
        XCTAssertTrue(ready.messages.isEmpty)
    }

    func testFollowerRefusesProposalAndNamesLeader() {
        var node = makeNode(2, voters: [1, 2, 3])
        node.step(heartbeat(from: 1, to: 2, term: 1))
        XCTAssertThrowsError(try node.propose([1])) { error in
            XCTAssertEqual(error as? ProposalError, .notLeader(leader: NodeID(1)))
        }
    }

    func testRestartKeepsVoteSoSecondCandidateInSameTermIsRefused() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.step(voteRequest(from: 2, to: 1, term: 5))
        let ready = node.drain()
        XCTAssertEqual(ready.hardState, HardState(term: Term(5), vote: NodeID(2), commit: .zero))
        XCTAssertEqual(ready.messages.map(\.kind), [.voteResponse(granted: true)])

        var restarted = RaftNode(
            config: node.config,
            state: PersistentState(
                hardState: ready.hardState!, snapshot: PersistentState.bootstrap(voters: [voter(1), voter(2), voter(3)]).snapshot))
        restarted.step(voteRequest(from: 3, to: 1, term: 5))
        XCTAssertEqual(restarted.drain().messages.map(\.kind), [.voteResponse(granted: false)])
        XCTAssertEqual(restarted.vote, NodeID(2))
    }

    func testElectionTimeoutIsRandomizedWithinRangeAndReproducibleFromSeed() {
        func ticksUntilCampaign(seed: UInt64) -> [Int] {
            var node = makeNode(1, voters: [1, 2, 3], seed: seed)
            var result: [Int] = []
            var ticks = 0
            while result.count < 20 {
                node.tick()
                ticks += 1
                if node.role == .candidate && node.term.rawValue == UInt64(result.count + 1) {
                    result.append(ticks)
                    ticks = 0
                }
                XCTAssertLessThan(ticks, 20, "no campaign within two election timeouts")
                if ticks >= 20 { break }
            }
            return result
        }
        let timeouts = ticksUntilCampaign(seed: 7)
        XCTAssertEqual(timeouts, ticksUntilCampaign(seed: 7))
        XCTAssertTrue(timeouts.allSatisfy { (10..<20).contains($0) }, "\(timeouts)")
        XCTAssertGreaterThan(Set(timeouts).count, 1, "timeouts are not randomized")
        XCTAssertNotEqual(timeouts, ticksUntilCampaign(seed: 8))
    }

    func testVoteFromWrongDirectoryIsNotCounted() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.campaign()
        XCTAssertEqual(node.role, .candidate)
        var wiped = voteResponse(from: 2, to: 1, term: node.term, granted: true)
        wiped.fromDirectory = DirectoryID(high: 1, low: 2)
        node.step(wiped)
        XCTAssertEqual(node.role, .candidate)
        node.step(voteResponse(from: 3, to: 1, term: node.term, granted: true))
        XCTAssertEqual(node.role, .leader)
    }

    func testFollowerInLeaderLeaseIgnoresDisruptiveVoteButHonoursTransfer() {
        var node = makeNode(1, voters: [1, 2, 3], preVote: true, checkQuorum: true)
        node.step(heartbeat(from: 2, to: 1, term: 1))
        _ = node.drain()
        node.step(voteRequest(from: 3, to: 1, term: 2))
        XCTAssertEqual(node.term, Term(1))
        XCTAssertTrue(node.drain().messages.isEmpty)
        node.step(
            Message(
                from: NodeID(3), fromDirectory: voter(3).directory, to: NodeID(1), term: Term(2),
                kind: .vote(lastLogIndex: .zero, lastLogTerm: .zero, leadershipTransfer: true)))
        XCTAssertEqual(node.term, Term(2))
        XCTAssertEqual(node.vote, NodeID(3))
    }

    func testPreVoteDoesNotChangeTerms() {
        var node = makeNode(1, voters: [1, 2, 3], preVote: true)
        node.campaign()
        XCTAssertEqual(node.role, .preCandidate)
        XCTAssertEqual(node.term, .zero)
        let requests = node.drain().messages
        XCTAssertEqual(requests.map(\.term), [Term(1), Term(1)])
        var peer = makeNode(2, voters: [1, 2, 3], preVote: true)
        peer.step(requests[0])
        XCTAssertEqual(peer.term, .zero)
        XCTAssertNil(peer.vote)
        XCTAssertEqual(peer.drain().messages.map(\.kind), [.preVoteResponse(granted: true)])
    }

    func testCompactionRefusesUnappliedIndexAndDropsPrefix() throws {
        var node = makeNode(1, voters: [1])
        node.campaign()
        for i in 0..<5 { try node.propose([UInt8(i)]) }
        XCTAssertThrowsError(try node.compact(through: LogIndex(3), snapshotData: [])) { error in
            XCTAssertEqual(error as? CompactionError, .notApplied)
        }
        _ = node.drain()
        let snapshot = try node.compact(through: LogIndex(3), snapshotData: [42])
        XCTAssertEqual(snapshot.metadata.index, LogIndex(3))
        XCTAssertEqual(snapshot.metadata.membership.voters, [voter(1)])
        XCTAssertEqual(node.firstIndex, LogIndex(4))
        XCTAssertNil(node.entry(at: LogIndex(3)))
        XCTAssertThrowsError(try node.compact(through: LogIndex(2), snapshotData: [])) { error in
            XCTAssertEqual(error as? CompactionError, .alreadyCompacted)
        }
    }

    func testSkipLogMatchingFaultAcceptsAppendWhosePreviousEntryDiffers() {
        func follower(_ faults: RaftFaults) -> RaftNode {
            var node = makeNode(2, voters: [1, 2, 3], faults: faults)
            node.step(append(from: 1, to: 2, term: 1, prev: (0, 0), entries: [Entry(term: Term(1), index: LogIndex(1))]))
            _ = node.drain()
            return node
        }
        let mismatched = append(from: 3, to: 2, term: 2, prev: (1, 2), entries: [Entry(term: Term(2), index: LogIndex(2))])
        var correct = follower(RaftFaults())
        correct.step(mismatched)
        XCTAssertEqual(correct.lastIndex, LogIndex(1))
        var broken = follower(RaftFaults(skipLogMatchingCheck: true))
        broken.step(mismatched)
        XCTAssertEqual(broken.lastIndex, LogIndex(2))
    }

    func testOlderTermEntryCommitsByCountingOnlyUnderFault() {
        // Leader 1 of term 2 holds an entry of term 1 at index 1 that follower 2 also holds; the no-op of
        // term 2 at index 2 is only on the leader.
        func leader(_ faults: RaftFaults) -> RaftNode {
            let config = RaftConfig(id: NodeID(1), directory: voter(1).directory, preVote: false, checkQuorum: false, faults: faults)
            var state = PersistentState.bootstrap(voters: [voter(1), voter(2), voter(3)])
            state.entries = [Entry(term: Term(1), index: LogIndex(1), data: [7])]
            state.hardState = HardState(term: Term(1))
            var node = RaftNode(config: config, state: state)
            node.campaign()
            node.step(voteResponse(from: 2, to: 1, term: Term(2), granted: true))
            XCTAssertEqual(node.role, .leader)
            node.step(
                Message(
                    from: NodeID(2), fromDirectory: voter(2).directory, to: NodeID(1), term: Term(2),
                    kind: .appendResponse(.accepted(matchIndex: LogIndex(1)))))
            return node
        }
        XCTAssertEqual(leader(RaftFaults()).commitIndex, .zero)
        XCTAssertEqual(leader(RaftFaults(commitByCountingOlderTermEntries: true)).commitIndex, LogIndex(1))
    }

    func testReadyCarriesHardStateBeforeVoteResponseAndNothingAfterAdvance() {
        var node = makeNode(1, voters: [1, 2, 3])
        node.step(voteRequest(from: 2, to: 1, term: 3))
        XCTAssertTrue(node.hasReady)
        let ready = node.drain()
        XCTAssertEqual(ready.hardState?.vote, NodeID(2))
        XCTAssertEqual(ready.messages.count, 1)
        XCTAssertFalse(node.hasReady)
        XCTAssertNil(node.ready())
    }

    func testLearnerNeverCampaigns() {
        let config = RaftConfig(id: NodeID(4), directory: voter(4).directory)
        var learner = RaftNode(
            config: config, state: .bootstrap(voters: [voter(1), voter(2), voter(3)], learners: [voter(4)]))
        for _ in 0..<100 { learner.tick() }
        XCTAssertEqual(learner.role, .follower)
        XCTAssertEqual(learner.term, .zero)
        XCTAssertFalse(learner.hasReady)
    }

    func testMembershipChangesApplyOneServerAtATime() {
        let base = Membership(voters: [voter(1), voter(2)], learners: [voter(3)])
        XCTAssertNil(base.applying(.addVoter(voter(2))))
        XCTAssertNil(base.applying(.addVoter(voter(3))), "a learner is promoted, not added")
        XCTAssertEqual(base.applying(.promoteLearner(NodeID(3)))?.voters, [voter(1), voter(2), voter(3)])
        XCTAssertNil(Membership(voters: [voter(1)]).applying(.removeVoter(NodeID(1))), "the last voter stays")
        XCTAssertEqual(base.applying(.removeLearner(NodeID(3)))?.learners, [])
        XCTAssertNil(base.applying(.removeLearner(NodeID(2))))
    }
}

// MARK: Message builders

func heartbeat(from: UInt64, to: UInt64, term: UInt64) -> Message {
    Message(
        from: NodeID(from), fromDirectory: voter(from).directory, to: NodeID(to), term: Term(term),
        kind: .heartbeat(commit: .zero))
}

func voteRequest(from: UInt64, to: UInt64, term: UInt64) -> Message {
    Message(
        from: NodeID(from), fromDirectory: voter(from).directory, to: NodeID(to), term: Term(term),
        kind: .vote(lastLogIndex: .zero, lastLogTerm: .zero, leadershipTransfer: false))
}

func voteResponse(from: UInt64, to: UInt64, term: Term, granted: Bool) -> Message {
    Message(
        from: NodeID(from), fromDirectory: voter(from).directory, to: NodeID(to), term: term,
        kind: .voteResponse(granted: granted))
}

func append(from: UInt64, to: UInt64, term: UInt64, prev: (UInt64, UInt64), entries: [Entry]) -> Message {
    Message(
        from: NodeID(from), fromDirectory: voter(from).directory, to: NodeID(to), term: Term(term),
        kind: .append(prevLogIndex: LogIndex(prev.0), prevLogTerm: Term(prev.1), entries: entries, commit: .zero))
}

final class AppendLimitTests: XCTestCase {
    func testAppendCarriesAtMostTheByteLimitButAlwaysOneEntry() throws {
        let config = RaftConfig(
            id: NodeID(1), directory: voter(1).directory, preVote: false, checkQuorum: false, appendBytesMax: 12)
        var leader = RaftNode(config: config, state: .bootstrap(voters: [voter(1), voter(2)]))
        leader.campaign()
        leader.step(voteResponse(from: 2, to: 1, term: leader.term, granted: true))
        XCTAssertEqual(leader.role, .leader)
        _ = leader.drain()
        // Follower 2 has not answered the probe yet, so these wait.
        try leader.propose([UInt8](repeating: 1, count: 6))
        try leader.propose([UInt8](repeating: 2, count: 6))
        try leader.propose([UInt8](repeating: 3, count: 30))
        XCTAssertTrue(leader.drain().messages.isEmpty)
        leader.step(
            Message(
                from: NodeID(2), fromDirectory: voter(2).directory, to: NodeID(1), term: leader.term,
                kind: .appendResponse(.accepted(matchIndex: LogIndex(1)))))
        let sizes = leader.drain().messages.compactMap { message -> [Int]? in
            guard case .append(_, _, let entries, _) = message.kind else { return nil }
            return entries.map(\.data.count)
        }
        XCTAssertEqual(sizes, [[6, 6], [30]])
    }
}

final class RestartTests: XCTestCase {
    func testTornWriteWithEntriesOfNewerTermRestartsInThatTermWithoutVote() {
        var state = PersistentState.bootstrap(voters: [voter(1), voter(2), voter(3)])
        state.hardState = HardState(term: Term(4), vote: NodeID(2), commit: .zero)
        state.entries = [Entry(term: Term(5), index: LogIndex(1))]
        let node = RaftNode(config: RaftConfig(id: NodeID(1), directory: voter(1).directory), state: state)
        XCTAssertEqual(node.term, Term(5))
        XCTAssertNil(node.vote)
    }

    func testRestartReappliesCommittedEntriesAfterTheSnapshot() {
        var state = PersistentState.bootstrap(voters: [voter(1)])
        state.entries = (1...3).map { Entry(term: Term(1), index: LogIndex($0), data: [UInt8($0)]) }
        state.hardState = HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(2))
        var node = RaftNode(config: RaftConfig(id: NodeID(1), directory: voter(1).directory), state: state)
        XCTAssertEqual(node.drain().committedEntries.map(\.index), [LogIndex(1), LogIndex(2)])
        XCTAssertEqual(node.appliedIndex, LogIndex(2))
    }
}
