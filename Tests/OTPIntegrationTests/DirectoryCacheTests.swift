import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OTPAPI
import OTPCore
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// The cache of keys and apps in `otp serve`, kept in step by LISTEN/NOTIFY. Each test has a
/// database of its own: notifications are per database, and other suites' changes would empty the
/// cache under test.
@Suite struct DirectoryCacheTests {
    /// The router over `cache`, with its listener running.
    func withCachedAPI(
        _ world: TestApp, lifetime: Duration = .seconds(5),
        _ body: @Sendable (any TestClientProtocol, CachedAccessDirectory) async throws -> Void
    ) async throws {
        let cache = CachedAccessDirectory(world.services.directory(), lifetime: lifetime)
        // On a pool of its own whose run is not awaited either: a cancellation PostgresNIO loses
        // while a LISTEN is being set up leaves the connection leased, and a pool waits for its
        // leased connections before its run ends (the world's would hold the test forever). Dropping
        // the test's database at the end ends that connection.
        let listenerPool = PostgresClient(
            configuration: try PostgresClient.Configuration(url: world.databaseURL), backgroundLogger: quietLogger)
        let pooling = Task { await listenerPool.run() }
        defer { pooling.cancel() }
        let listener = DirectoryChangeListener(client: listenerPool, cache: cache, logger: quietLogger)
        let dependencies = world.services.apiDependencies(receipts: world.receiptSettings, directoryCache: cache)
        let application = Application(
            router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: dependencies.backgroundServices)
        // Not awaited at the end, for the same reason (serve bounds it with the service group's
        // cancellation time).
        let listening = Task { try await listener.run() }
        defer { listening.cancel() }
        try await waitUntil { cache.isListening }
        try await application.test(.router) { client in try await body(client, cache) }
    }

    @Test func aRevokedKeyIsRefusedWithinMillisecondsDespiteTheCache() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            // Entries that would outlive the test: only the notification can show the revocation.
            try await withCachedAPI(world, lifetime: .seconds(600)) { client, cache in
                _ = try await world.send(client)
                #expect(try await cache.apiKey(id: world.keyID)?.revoked == false)
                #expect(cache.isListening)
                // Revoked by another process (the CLI): only the notification tells this one.
                let revokedAt = ContinuousClock.now
                try await world.directory.revokeKey(id: world.keyID)
                var refused: Duration? = nil
                while refused == nil, ContinuousClock.now - revokedAt < .seconds(30) {
                    if try await cache.apiKey(id: world.keyID)?.revoked == true {
                        refused = ContinuousClock.now - revokedAt
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
                let elapsed = try #require(refused, "the revocation never reached the cache")
                print("revocation reached the cache after \(elapsed)")
                let answer = try await client.post(
                    "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#, headers: world.basicAuth
                )
                #expect(answer.status == .unauthorized)
            }
        }
    }

    @Test func keysAreServedFromMemoryUntilAChangeIsAnnounced() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            // A lifetime no loaded machine reaches between the send and the check: with the
            // default 5 s, a slow send let the entry expire and be read again.
            try await withCachedAPI(world, lifetime: .seconds(300)) { client, cache in
                _ = try await world.send(client)
                // A change that skips the triggers (so announces nothing) is not seen: memory answers.
                try await world.client.withConnection { connection in
                    try await connection.query("SET session_replication_role = replica", logger: quietLogger)
                    try await connection.query(
                        "UPDATE otp.api_keys SET revoked_at = now() WHERE key_id = \(world.keyID)", logger: quietLogger)
                    try await connection.query("RESET session_replication_role", logger: quietLogger)
                }
                #expect(try await cache.apiKey(id: world.keyID)?.revoked == false, "served from memory")
                // Announced, it is seen at once.
                try await world.client.query("SELECT pg_notify('otp_directory', 'api_keys')", logger: quietLogger)
                try await waitUntil(seconds: 2) { try await cache.apiKey(id: world.keyID)?.revoked == true }
            }
        }
    }

    @Test func aPolicyChangeAppliesAtOnce() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withCachedAPI(world) { client, cache in
                _ = try await world.send(client)
                _ = try await world.directory.updatePolicy(appID: world.app.id) {
                    $0.channels = [.whatsapp]; $0.defaultChannel = .whatsapp
                }
                try await waitUntil(seconds: 2) {
                    try await cache.apiKey(id: world.keyID)?.soleApp?.policy.channels == [.whatsapp]
                }
                let answer = try await client.post(
                    "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766","channel":"sms"}"#,
                    headers: world.basicAuth)
                #expect(answer.status.code >= 400 && answer.status.code < 500)
            }
        }
    }

    @Test func aListenerThatLosesItsConnectionStopsTheCacheUntilItIsBack() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withCachedAPI(world) { client, cache in
                _ = try await world.send(client)
                // End the listening backend, as a failover or a network cut would.
                // Until one is found: the listener may say it listens a moment before its LISTEN
                // shows in pg_stat_activity.
                try await waitUntil(seconds: 10) {
                    let ended: Int = try await world.scalar(
                        """
                        SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                        WHERE query ILIKE 'LISTEN%otp_directory%' AND datname = current_database()
                            AND pid <> pg_backend_pid()
                        """)
                    return ended > 0
                }
                try await waitUntil(seconds: 5) { !cache.isListening }
                try await world.directory.revokeKey(id: world.keyID)
                #expect(try await cache.apiKey(id: world.keyID)?.revoked == true, "read from the database")
                try await waitUntil(seconds: 5) { cache.isListening }
            }
        }
    }
}
