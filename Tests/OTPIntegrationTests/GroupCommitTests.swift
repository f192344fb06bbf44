import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import OTPPostgres

/// The group commit's line, without a database: who leaves together, and when a slow batch lets the
/// others go beside it.
@Suite struct GroupCommitTests {
    /// A flush that records each batch and holds the first one until `releaseFirst`.
    final class HeldFlush: Sendable {
        let batches = Mutex<[[Int]]>([])
        private let first = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let firstArrived = Mutex(false)

        func flush(_ batch: [Int]) async -> [Result<Int, any Error>] {
            let isFirst = batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if isFirst {
                await withCheckedContinuation { continuation in
                    first.withLock { $0 = continuation }
                    firstArrived.withLock { $0 = true }
                }
            }
            return batch.map { .success($0 * 10) }
        }

        func waitForFirst() async throws {
            while !firstArrived.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        }

        func releaseFirst() { first.withLock { $0?.resume() } }
    }

    /// Runs `commit` in a service group around `body`, then shuts it down.
    func running(
        _ commit: GroupCommit<Int, Int>, _ body: @Sendable (GroupCommit<Int, Int>) async throws -> Void
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: commit)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body(commit)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func requestsThatArriveWhileABatchIsOutLeaveTogetherWhenItComesBack() async throws {
        let held = HeldFlush()
        let commit = GroupCommit<Int, Int>(operation: "test", patience: .seconds(60)) { batch, _ in
            await held.flush(batch)
        }
        try await running(commit) { commit in
            try await withThrowingTaskGroup(of: Void.self) { answers in
                answers.addTask {
                    let answer = try await commit.submit(1)
                    #expect(answer == 10)
                }
                try await held.waitForFirst()
                for n in 2...6 {
                    answers.addTask {
                        let answer = try await commit.submit(n)
                        #expect(answer == n * 10)
                    }
                }
                // All five are in line behind the held batch (the patience is a minute).
                try await Task.sleep(for: .milliseconds(200))
                #expect(held.batches.withLock { $0 } == [[1]])
                held.releaseFirst()
                try await answers.waitForAll()
            }
            #expect(held.batches.withLock { $0.map { $0.sorted() } } == [[1], [2, 3, 4, 5, 6]])
        }
    }

    @Test func aSlowBatchLetsTheOthersGoBesideItAfterThePatience() async throws {
        let held = HeldFlush()
        let commit = GroupCommit<Int, Int>(operation: "test", patience: .milliseconds(50)) { batch, _ in
            await held.flush(batch)
        }
        try await running(commit) { commit in
            try await withThrowingTaskGroup(of: Void.self) { answers in
                let start = ContinuousClock.now
                answers.addTask {
                    let answer = try await commit.submit(1)
                    #expect(answer == 10)
                }
                try await held.waitForFirst()
                // The first batch never comes back on its own; these are answered beside it.
                async let two = commit.submit(2)
                async let three = commit.submit(3)
                #expect(try await [two, three] == [20, 30])
                #expect(ContinuousClock.now - start >= .milliseconds(50))
                #expect(held.batches.withLock { $0.count } == 2, "the first is still out")
                held.releaseFirst()
                try await answers.waitForAll()
            }
        }
    }
}
