import Foundation
import Logging
import OTPCore
import OTPServices
import ServiceLifecycle
import Synchronization
import Testing

/// Shutdown with a database call that never ends: PostgresNIO strands a call whose connection closes
/// between the lease and the write, and such a call ignores cancellation. The calls' runner must not
/// hold the process until ServiceLifecycle's cancellation timeout crashes it.
@Suite struct ShutdownTests {
    @Test func aStrandedCallIsLeftAfterThePatienceAndNothingElseIs() async throws {
        let calls = AbandonableCalls()
        let seen = Seen()
        let service = AbandonableCallsService(calls: calls, patience: .milliseconds(400)) { count in
            seen.left.withLock { $0.append(count) }
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))

        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await calls.perform { 7 } == 7)
            // A call that never answers and ignores cancellation (its caller stops waiting at its deadline).
            tasks.addTask {
                _ = try? await calls.perform {
                    await withCheckedContinuation { continuation in seen.stranded.withLock { $0 = continuation } }
                }
            }
            while seen.stranded.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(10)) }
            let shutdown = ContinuousClock.now
            await group.triggerGracefulShutdown()
            while seen.left.withLock({ $0.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
                #expect(ContinuousClock.now - shutdown < .seconds(10), "the stranded call was never left")
            }
            #expect(ContinuousClock.now - shutdown >= .milliseconds(400))
            #expect(seen.left.withLock { $0 } == [1])
            // In the process, `leaveStranded` ends it; here the call is let go so the group can end.
            seen.stranded.withLock { $0 }?.resume()
            try await tasks.waitForAll()
        }
    }

    @Test func callsThatEndAreWaitedForAndNothingIsLeft() async throws {
        let calls = AbandonableCalls()
        let seen = Seen()
        let service = AbandonableCallsService(calls: calls, patience: .seconds(5)) { count in
            seen.left.withLock { $0.append(count) }
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                try await calls.perform {
                    try await Task.sleep(for: .milliseconds(300))
                    seen.finished.withLock { $0 = true }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(seen.finished.withLock { $0 })
        #expect(seen.left.withLock { $0 }.isEmpty)
    }
}

/// What the tests' calls and service saw, shared with their tasks.
private final class Seen: Sendable {
    let left = Mutex<[Int]>([])
    let stranded = Mutex<CheckedContinuation<Void, Never>?>(nil)
    let finished = Mutex(false)
}
