import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OTPAPI
import OTPCore
import OTPDashboard
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// The dashboard's users, sessions, login limits and account administration in PostgreSQL.
@Suite struct DashboardStoreTests {
    static let hash = "$2b$12$" + String(repeating: "a", count: 53)

    func users(_ world: TestApp) -> PostgresDashboardUsers {
        PostgresDashboardUsers(client: world.runtimeClient, logger: quietLogger)
    }

    func administration(_ world: TestApp) -> PostgresAccountAdministration {
        PostgresAccountAdministration(
            client: world.runtimeClient, logger: quietLogger, secrets: APIKeySecrets(keys: world.keys))
    }

    func email() -> String { "user-\(Identifiers.random(count: 10))@example.com" }

    @Test func sessionsLiveInTheDatabaseUntilIdleEndedOrTheirUserIsDisabled() async throws {
        try await TestApp.with { world in
            let users = users(world)
            let email = email()
            try await users.createUser(
                email: email.uppercased(), account: try await world.accountName(), role: .viewer,
                passwordHash: Self.hash)
            await #expect(throws: PostgresDashboardUsers.AdminError.emailTaken(email)) {
                try await users.createUser(email: email, account: "other", role: .owner, passwordHash: Self.hash)
            }
            let credentials = try #require(try await users.credentials(email: " \(email.uppercased()) "))
            #expect(credentials.user.accountID == world.app.accountID)
            #expect(credentials.user.role == .viewer)
            let token = SessionToken.make()
            try await users.startSession(token, userID: credentials.user.id)
            #expect(try await users.session(token)?.email == email)
            #expect(try await users.session(SessionToken.make()) == nil)
            // Only a digest is stored: the table does not hold the cookie value.
            let stored = try await world.scalar(
                "SELECT count(*)::bigint FROM otp.dashboard_sessions WHERE token_digest = \(Data(token.value.utf8))",
                as: Int.self)
            #expect(stored == 0)
            // Idle for 12 hours: ended, and `otp prune` removes it.
            try await world.client.query(
                "UPDATE otp.dashboard_sessions SET last_used_at = now() - interval '12 hours 1 minute'",
                logger: quietLogger)
            #expect(try await users.session(token) == nil)
            let pruned = try await PostgresMaintenance(client: world.client, logger: quietLogger).prune(
                olderThanDays: 90)
            #expect(pruned.sessions >= 1)
            let again = SessionToken.make()
            try await users.startSession(again, userID: credentials.user.id)
            try await users.endSession(again)
            #expect(try await users.session(again) == nil)
            let last = SessionToken.make()
            try await users.startSession(last, userID: credentials.user.id)
            try await users.disableUser(email: email)
            #expect(try await users.session(last) == nil)
            #expect(try await users.credentials(email: email)?.disabled == true)
        }
    }

    @Test func loginTriesAreLimitedPerEmailAndPerIPEvenWhenRacing() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with { world in
            let users = users(world)
            let email = email()
            // Twenty tries at once: exactly the limit are let through to be judged.
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            try await users.chargeLoginTry(email: email, ip: nil)
                            return true
                        } catch OTPFailure.rateLimited { return false }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == LoginRules.maxFailures)
            // A success gives its try back.
            try await users.refundLoginTry(email: email, ip: nil)
            try await users.chargeLoginTry(email: email, ip: nil)
            await #expect(throws: OTPFailure.self) { try await users.chargeLoginTry(email: email, ip: nil) }
            // Per IP, across emails (an IPv6 client by its /64).
            for index in 0..<LoginRules.maxFailures {
                try await users.chargeLoginTry(email: "spray-\(index)@example.com", ip: "2001:db8:1:2::\(index + 1)")
            }
            await #expect(throws: OTPFailure.self) {
                try await users.chargeLoginTry(email: "spray-x@example.com", ip: "2001:db8:1:2:ffff::1")
            }
            try await users.chargeLoginTry(email: "spray-x@example.com", ip: "2001:db8:9:9::1")
        }
    }

    @Test func administrationIsScopedToTheAccountAndAuditedInTheSameTransaction() async throws {
        try await TestApp.with { world in
            let admin = administration(world)
            let caller = Caller(keyID: "user:owner@example.com", ip: "192.0.2.7")
            let other = try await world.directory.createApp(
                name: "Other", account: "other-" + Identifiers.random(count: 8), policy: .default)
            let foreign = try await admin.updateApp(id: other.id, accountID: world.app.accountID, by: caller) {
                $0.name = "X"
            }
            #expect(foreign == nil)
            await #expect(throws: PolicyProblem.self) {
                _ = try await admin.updateApp(id: world.app.id, accountID: world.app.accountID, by: caller) {
                    $0.policy.codeLength = 4
                }
            }
            let changed = try await admin.updateApp(id: world.app.id, accountID: world.app.accountID, by: caller) {
                $0.policy.ttlSeconds = 240
            }
            #expect(changed?.policy.ttlSeconds == 240)
            #expect(try await world.directory.app(id: world.app.id)?.policy.ttlSeconds == 240)
            await #expect(throws: (any Error).self) {
                _ = try await admin.createKey(accountID: world.app.accountID, appIDs: [other.id], by: caller)
            }
            let key = try await admin.createKey(accountID: world.app.accountID, appIDs: [world.app.id], by: caller)
            #expect(try await admin.keys(accountID: world.app.accountID).contains { $0.keyID == key.keyID })
            #expect(try await admin.keys(accountID: other.accountID).isEmpty)
            #expect(try await admin.revokeKey(id: key.keyID, accountID: other.accountID, by: caller) == false)
            #expect(try await admin.revokeKey(id: key.keyID, accountID: world.app.accountID, by: caller))
            #expect(try await world.directory.apiKey(id: key.keyID)?.revoked == true)
            let rows = try await world.client.query(
                """
                SELECT event, actor, ip, details->>'changed' FROM otp.events
                WHERE app_id = \(world.app.id) AND actor = \(caller.keyID) ORDER BY id
                """, logger: quietLogger)
            var events: [String] = []
            for try await (event, actor, ip, changed) in rows.decode((String, String, String?, String?).self) {
                #expect(actor == "user:owner@example.com" && ip == "192.0.2.7")
                events.append(changed.map { "\(event):\($0)" } ?? event)
            }
            // The refused change wrote nothing; the other account's app was not touched.
            #expect(events == ["app_updated:ttl", "key_created", "key_revoked"])
            #expect(try await world.directory.app(id: other.id)?.name == "Other")
        }
    }

    @Test func aSessionMadeByOneServeIsAcceptedByAnother() async throws {
        try await TestApp.with { world in
            let users = users(world)
            let email = email()
            let password = "a long enough password"
            try await users.createUser(
                email: email, account: try await world.accountName(), role: .owner,
                passwordHash: try await Passwords.hash(password))
            func serve() -> some ApplicationProtocol {
                let api = world.dependencies
                let dashboard = Dashboard(world.services.dashboardDependencies(api: api))
                return Application(
                    router: buildRouter(api, addingRoutes: dashboard.addRoutes),
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: api.backgroundServices)
            }
            let cookie = try await serve().test(.router) { client in
                let login = try await client.execute(uri: "/dashboard/login", method: .get)
                let signIn = try #require(login.headers[values: .setCookie].first?.split(separator: ";").first)
                let page = String(buffer: login.body)
                let token = try #require(
                    page.range(of: #"name="csrf" value=""#).map { page[$0.upperBound...].prefix { $0 != "\"" } })
                let form = "email=\(email)&password=\(password.replacingOccurrences(of: " ", with: "+"))&csrf=\(token)"
                let answer = try await client.execute(
                    uri: "/dashboard/login", method: .post,
                    headers: [.cookie: String(signIn), .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: form))
                #expect(answer.status == .seeOther)
                return try #require(
                    answer.headers[values: .setCookie].first { $0.hasPrefix("otp_session=") }?
                        .split(separator: ";").first.map(String.init))
            }
            try await serve().test(.router) { client in
                let overview = try await client.execute(uri: "/dashboard/", method: .get, headers: [.cookie: cookie])
                #expect(overview.status == .ok)
                #expect(String(buffer: overview.body).contains(email))
                let apps = try await client.execute(uri: "/dashboard/apps", method: .get, headers: [.cookie: cookie])
                #expect(String(buffer: apps.body).contains(world.app.id))
            }
        }
    }
}
