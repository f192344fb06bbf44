import Foundation
import OTPCore
import Synchronization

/// Dashboard users and sessions in memory, on the test clock (for the idle timeout and the
/// login windows).
package final class InMemoryDashboardUsers: DashboardUserStore {
    private struct State {
        var users: [String: UserCredentials] = [:]
        var sessions: [Data: (userID: Int64, lastUsed: Date)] = [:]
        var tries: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let clock: TestClock

    package init(clock: TestClock) { self.clock = clock }

    /// Adds a user with an already made password hash.
    package func add(_ user: DashboardUser, passwordHash: String) {
        state.withLock {
            $0.users[user.email] = UserCredentials(user: user, passwordHash: passwordHash, disabled: false)
        }
    }

    package func disable(email: String) {
        state.withLock { state in
            state.users[email]?.disabled = true
            let id = state.users[email]?.user.id
            state.sessions = state.sessions.filter { $0.value.userID != id }
        }
    }

    package var sessionCount: Int { state.withLock { $0.sessions.count } }

    package func credentials(email: String) async throws -> UserCredentials? {
        state.withLock { $0.users[LoginRules.normalised(email: email)] }
    }

    private func counterKeys(email: String, ip: String?) -> [String] {
        let window = Int(clock.now.timeIntervalSince1970) / LoginRules.failureWindowSeconds
        return ["email|\(email)|\(window)"] + (ip.map { ["ip|\(IPAddress.limitKey($0))|\(window)"] } ?? [])
    }

    package func chargeLoginTry(email: String, ip: String?) async throws {
        let keys = counterKeys(email: email, ip: ip)
        try state.withLock { state in
            if keys.contains(where: { state.tries[$0, default: 0] >= LoginRules.maxFailures }) {
                throw OTPFailure.rateLimited(rule: "login", retryAfterSeconds: LoginRules.failureWindowSeconds)
            }
            for key in keys { state.tries[key, default: 0] += 1 }
        }
    }

    package func refundLoginTry(email: String, ip: String?) async throws {
        let keys = counterKeys(email: email, ip: ip)
        state.withLock { state in
            for key in keys { state.tries[key] = max(0, state.tries[key, default: 0] - 1) }
        }
    }

    package func startSession(_ token: SessionToken, userID: Int64) async throws {
        let now = clock.now
        state.withLock { $0.sessions[token.digest] = (userID, now) }
    }

    package func session(_ token: SessionToken) async throws -> DashboardUser? {
        let now = clock.now
        return state.withLock { state -> DashboardUser? in
            guard let session = state.sessions[token.digest],
                now.timeIntervalSince(session.lastUsed) < Double(LoginRules.idleTimeoutSeconds),
                let credentials = state.users.values.first(where: { $0.user.id == session.userID }),
                !credentials.disabled
            else { return nil }
            state.sessions[token.digest] = (session.userID, now)
            return credentials.user
        }
    }

    package func endSession(_ token: SessionToken) async throws {
        _ = state.withLock { $0.sessions.removeValue(forKey: token.digest) }
    }
}
