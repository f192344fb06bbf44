import OTPCore
import Synchronization
import Testing

@Suite struct DeadlineTests {
    @Test func aCallPastItsLimitIsCancelledAndReportedUnavailable() async throws {
        let bodyCancelled = Flag()
        let deadline = Deadline(.milliseconds(20))
        await #expect(throws: StoreUnavailable.self) {
            try await deadline.run {
                do { try await Task.sleep(for: .seconds(30)) } catch {
                    bodyCancelled.set()
                    throw error
                }
                return 1
            }
        }
        #expect(await bodyCancelled.becomesSet(), "the abandoned call is cancelled")
    }

    /// The call is waited for, not left behind: one that ends well after its limit (a write whose
    /// COMMIT was on its way) answers with its own value, never a `503` for what was done.
    @Test func aCallThatSucceedsPastItsLimitAnswersWithItsValue() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let answer = try await Deadline(.milliseconds(20)).run {
            // A wait cancellation cannot cut short, like a query already sent.
            let end = clock.now.advanced(by: .milliseconds(300))
            while clock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
            return 7
        }
        #expect(answer == 7)
        #expect(clock.now - start >= .milliseconds(300))
    }

    @Test func callsWithinARequestShareItsDeadline() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await RequestDeadline.$end.withValue(start.advanced(by: .milliseconds(300))) {
            let deadline = Deadline(.seconds(5))
            // The first call takes most of the request's time; the second gets only what is left.
            _ = try await deadline.run { try await Task.sleep(for: .milliseconds(200)) }
            await #expect(throws: StoreUnavailable.self) {
                try await deadline.run { try await Task.sleep(for: .seconds(30)) }
            }
        }
        // Well under the store's own 5 s: the second call had only the request's remainder.
        #expect(clock.now - start < .seconds(4))
        await #expect(throws: StoreUnavailable.self) {
            try await RequestDeadline.$end.withValue(start) { try await Deadline(.seconds(5)).run { 1 } }
        }
    }

    @Test func aCallInTimeAnswersAndTakesItsTimerBack() async throws {
        let timerCancelled = Flag()
        let deadline = Deadline(.seconds(30)) { limit in
            do { try await Task.sleep(for: limit) } catch {
                timerCancelled.set()
                throw error
            }
        }
        #expect(try await deadline.run { 42 } == 42)
        #expect(await timerCancelled.becomesSet(), "the timer ends with the call, not 30 s later")
    }

    @Test func aFailingCallAnswersWithItsOwnError() async throws {
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await Deadline(.seconds(30)).run { () -> Int in throw Refused() } }
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }

        /// Whether it is set within a second (cancellation reaches a task soon, not at once).
        func becomesSet() async -> Bool {
            for _ in 0..<100 {
                if isSet { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return isSet
        }
    }
}
