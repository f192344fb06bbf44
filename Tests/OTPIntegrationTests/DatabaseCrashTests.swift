import AsyncHTTPClient
import Foundation
import Logging
import OTPCore
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// PostgreSQL crashing (immediate stop: no checkpoint, recovery from the WAL) under concurrent
/// sends, on a durable cluster of the test's own: `otp serve` answers `202` or `503` with
/// `Retry-After` within the store deadline and a second, survives, takes sends again once the
/// server is back, and every send it accepted is there after recovery with its delivery. Part of
/// the serialized fault suite, so that no two of these heavy runs overlap.
extension DatabaseFaultTests {
    @Test func serveAnswers202Or503ThroughACrashAndLosesNothingAccepted() async throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "otp-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if geteuid() == 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        }
        let cluster = try EmbeddedPostgres.start(in: folder)
        defer {
            cluster.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        let secretKey = ServerKeys.generateSecret()
        let target = try await Self.prepare(cluster, keys: try ServerKeys(base64: secretKey))
        let port = try EmbeddedPostgres.freePort()
        let server = try SpawnedProcess.start(
            ["serve"],
            environment: [
                "DATABASE_URL": cluster.runtimeURL, "OTP_SECRET_KEY": secretKey,
                "OTP_HTTP_ADDRESS": "127.0.0.1:\(port)", "OTP_LOG_LEVEL": "warning",
            ])
        defer { server.stop() }
        let answers = try await underLoad(target, port: port) {
            try await Task.sleep(for: .seconds(2))
            try cluster.crash()
            try await Task.sleep(for: .seconds(3))
            try cluster.restart()
            try await Task.sleep(for: .seconds(4))
        }
        #expect(server.isRunning, "otp serve died: \(server.log.suffix(2000))")

        let accepted = answers.compactMap(\.verificationID)
        let refused = answers.filter { $0.status == 503 }
        print(
            "crash run: \(answers.count) sends, \(accepted.count) accepted (202), \(refused.count) refused (503), "
                + "slowest answer \(String(format: "%.2f", answers.map(\.seconds).max() ?? 0)) s")
        let others = answers.filter { $0.status != 202 && $0.status != 503 }
        #expect(others.isEmpty, "answers other than 202/503: \(others.map(\.status))")
        #expect(refused.allSatisfy { $0.retryAfter != nil })
        #expect(!refused.isEmpty, "the crash was seen")
        let slow = answers.filter { $0.seconds > 6 }
        #expect(slow.isEmpty, "answers slower than 6 s: \(slow.map(\.seconds))")
        // Taking sends again now that the server is back (the pool reconnects on demand, after its
        // backoff on a loaded machine): a 503 meanwhile, then a 202 within 30 s.
        let after = try await withHTTPClient { http in
            let giveUp = ContinuousClock.now.advanced(by: .seconds(30))
            var answer = try await send(http, target, port: port, recipient: "+5511997000001")
            while answer.status == 503, ContinuousClock.now < giveUp {
                try await Task.sleep(for: .milliseconds(500))
                answer = try await send(http, target, port: port, recipient: "+5511997000001")
            }
            return answer
        }
        #expect(after.status == 202, "a send after the restart: \(after.status)")
        let stored = try await withClient(url: cluster.url) { client in
            var count = 0
            let rows = try await client.query(
                """
                SELECT count(DISTINCT v.id)::int FROM otp.verifications v JOIN otp.deliveries d ON d.verification_id = v.id
                WHERE v.id = ANY(\(accepted + [after.verificationID].compactMap { $0 }))
                """, logger: quietLogger)
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
        #expect(stored == accepted.count + (after.verificationID == nil ? 0 : 1), "every accepted send survived")
    }

    /// Migrates the cluster, gives the runtime role its grants, and makes an app with every limit
    /// off and a key for it.
    static func prepare(_ cluster: EmbeddedPostgres, keys: ServerKeys) async throws -> LoadTarget {
        try await withClient(url: cluster.url) { client in
            try await Migrator(
                client: client, files: try MigrationFile.loadDefault(),
                functions: try MigrationFile.loadDefaultFunctions(), logger: quietLogger
            ).migrate()
            try await DatabaseRoles.grantRuntime(
                to: EmbeddedPostgres.runtimeUser, password: nil, client: client, logger: quietLogger)
            let directory = PostgresDirectory(client: client, logger: quietLogger)
            var policy = AppPolicy.default
            policy.rateLimits = Dictionary(uniqueKeysWithValues: RateLimitRule.allCases.map { ($0.rawValue, 0) })
            let app = try await directory.createApp(name: "Crash", account: "crash", policy: policy)
            let key = try await directory.createKey(appIDs: [app.id], secrets: APIKeySecrets(keys: keys))
            return LoadTarget(
                appID: app.id,
                authorization: "Basic " + Data("\(key.keyID):\(key.secret)".utf8).base64EncodedString())
        }
    }
}
