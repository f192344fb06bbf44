import OTPCore
import Synchronization
import Testing

@Suite struct DeadlineTests {
    @Test func aCallPastItsLimitIsCancelledAndReportedUnavailable() async throws {
        let bodyCancelled = Flag()
        let deadline = Deadline(.milliseconds(20))
        await #expect(throws: StoreUnavailable.self) {
            try await deadline.run {
                do { try await Task.sleep(for: .seconds(30)) } catch { bodyCancelled.set() }
                return 1
            }
        }
        #expect(bodyCancelled.isSet)
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
        #expect(timerCancelled.isSet, "the timer ends with the call, not 30 s later")
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }
}
