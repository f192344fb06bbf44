import Crypto
import Foundation

/// What a person of an account may do in the dashboard.
package enum UserRole: String, Sendable, CaseIterable, Codable {
    /// Changes settings, keys and templates.
    case owner
    /// Sees everything and changes nothing.
    case viewer
}

/// A person signed in to the dashboard, and the account whose apps they see.
package struct DashboardUser: Sendable, Equatable {
    package var id: Int64
    package var accountID: Int64
    package var account: String
    package var email: String
    package var role: UserRole

    package init(id: Int64, accountID: Int64, account: String, email: String, role: UserRole) {
        self.id = id
        self.accountID = accountID
        self.account = account
        self.email = email
        self.role = role
    }

    package var mayChange: Bool { role == .owner }

    /// Who made a change, as the audit trail names people (`user:EMAIL`).
    package func caller(ip: String?) -> Caller { Caller(keyID: "user:" + email, ip: ip) }
}

/// A user as the login checks it: the password only as its bcrypt hash.
package struct UserCredentials: Sendable {
    package var user: DashboardUser
    package var passwordHash: String
    package var disabled: Bool

    package init(user: DashboardUser, passwordHash: String, disabled: Bool) {
        self.user = user
        self.passwordHash = passwordHash
        self.disabled = disabled
    }
}

/// The dashboard's rules for signing in.
package enum LoginRules {
    /// Wrong tries allowed per email and per client IP in `failureWindowSeconds`; past them, 429.
    package static let maxFailures = 10
    package static let failureWindowSeconds = 900
    /// A session unused this long has ended.
    package static let idleTimeoutSeconds = 12 * 3600
    package static let minimumPasswordLength = 12

    /// Emails are compared without case and surrounding blanks.
    package static func normalised(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    package static func isPlausible(email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && email.utf8.count <= 254
            && !email.contains(where: { $0.isWhitespace })
    }
}

/// A session's cookie value: random, kept by the browser; the database holds only its digest.
package struct SessionToken: Sendable, Equatable {
    package let value: String

    package init(value: String) { self.value = value }

    package static func make() -> SessionToken { SessionToken(value: Identifiers.random(count: 43)) }

    package var digest: Data { Data(SHA256.hash(data: Data(value.utf8))) }
}

/// Users and sessions of the dashboard.
package protocol DashboardUserStore: Sendable {
    /// The user with this (normalised) email, disabled ones included.
    func credentials(email: String) async throws -> UserCredentials?
    /// Counts one login try against the email and the IP; throws `OTPFailure.rateLimited` when
    /// either already had `LoginRules.maxFailures` in the window. A try that succeeds is refunded,
    /// so only failures are left counted, and concurrent tries cannot judge more than the limit.
    func chargeLoginTry(email: String, ip: String?) async throws
    func refundLoginTry(email: String, ip: String?) async throws
    func startSession(_ token: SessionToken, userID: Int64) async throws
    /// The session's user when the session exists, was used within the idle timeout and its user
    /// is not disabled; the use is recorded.
    func session(_ token: SessionToken) async throws -> DashboardUser?
    func endSession(_ token: SessionToken) async throws
}

/// An API key as its account sees it: never the secret.
package struct APIKeySummary: Sendable, Codable, Equatable {
    package var keyID: String
    package var account: String
    package var appIDs: [String]?
    package var createdAt: Date
    package var revokedAt: Date?

    package init(keyID: String, account: String, appIDs: [String]?, createdAt: Date, revokedAt: Date?) {
        self.keyID = keyID
        self.account = account
        self.appIDs = appIDs
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Changes to an account's apps and keys, each written with its audit event (actor `caller`) in
/// one transaction. Every call is scoped to the account: another account's app or key is not found.
package protocol AccountAdministration: Sendable {
    func apps(accountID: Int64) async throws -> [App]
    func createApp(name: String, accountID: Int64, policy: AppPolicy, by caller: Caller) async throws -> App
    /// The changed app, nil when the account has no such app; throws `PolicyProblem` when the change
    /// breaks a rule of `AppPolicy`.
    func updateApp(
        id: String, accountID: Int64, by caller: Caller, _ change: @escaping @Sendable (inout App) throws -> Void
    )
        async throws -> App?
    func keys(accountID: Int64) async throws -> [APIKeySummary]
    /// A new key for `appIDs` (all of the account) and its secret, shown this once.
    func createKey(accountID: Int64, appIDs: [String], by caller: Caller) async throws -> (
        keyID: String, secret: String
    )
    /// False when the account has no such key.
    func revokeKey(id: String, accountID: Int64, by caller: Caller) async throws -> Bool
    /// Deliveries waiting for a worker, of the account's apps.
    func queueDepth(appIDs: [String]) async throws -> Int
    /// An audit event of a change made elsewhere (a template's), with actor `caller`.
    func record(_ kind: EventKind, appID: String, by caller: Caller, details: [String: String]) async throws
}

/// A policy that breaks a rule, as `AppPolicy.problem` words it.
package struct PolicyProblem: Error, Equatable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
