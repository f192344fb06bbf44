import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPCore
import Testing

/// A client that still reaches a primary demoted to a standby (a partition's old leader, a stale
/// address) gets read-only errors on every write: the writable database is away, which is a 503
/// with Retry-After, not a 500.
@Suite struct ReadOnlyDatabaseTests {
    @Test func aDatabaseThatTakesNoWritesAnswers503NotAnError() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let database: String = try await world.scalar("SELECT current_database()")
            _ = try await world.client.query(
                "ALTER DATABASE \(unescaped: database) SET default_transaction_read_only = on", logger: quietLogger
            ).collect()
            // The pool's sessions began writable: end them, so that its next ones are read-only.
            _ = try await world.client.query(
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """, logger: quietLogger
            ).collect()
            try await world.test { client in
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<3 {
                    let response = try await client.post(
                        "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+5511999888777"]),
                        headers: world.basicAuth)
                    statuses.append(response.status)
                    if response.status == .serviceUnavailable {
                        #expect(response.headers[.retryAfter] != nil)
                    }
                }
                #expect(statuses.allSatisfy { $0 == .serviceUnavailable }, "\(statuses)")
            }
            let stored: Int = try await world.scalar(
                "SELECT count(*)::bigint FROM otp.verifications WHERE app_id = \(world.app.id)")
            #expect(stored == 0)
        }
    }
}
