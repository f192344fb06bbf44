import Foundation
import Logging
import OTPPostgres
import OTPTesting
import PostgresNIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The PostgreSQL the integration tests use: `DATABASE_URL` when set, else a throwaway cluster
/// started with the same launcher as `otp dev` (stopped when the test process exits). The schema is
/// migrated once per process; tests keep out of each other's way by each using apps of their own.
actor TestDatabase {
    static let shared = TestDatabase()

    private var ready: Task<String, any Error>?

    /// The URL of a migrated database.
    func url() async throws -> String {
        if let ready { return try await ready.value }
        let task = Task { try await Self.prepare() }
        ready = task
        return try await task.value
    }

    private static func prepare() async throws -> String {
        let url: String
        if let configured = ProcessInfo.processInfo.environment["DATABASE_URL"], !configured.isEmpty {
            url = configured
        } else {
            let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
                "otp-tests-\(getpid())-\(Int.random(in: 0..<1_000_000))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
            let cluster = try EmbeddedPostgres.start(in: folder, fastAndUnsafe: true)
            runningCluster.withLock { $0 = (cluster, folder) }
            atexit {
                guard let (cluster, folder) = runningCluster.withLock({ $0 }) else { return }
                cluster.stop()
                try? FileManager.default.removeItem(at: folder)
            }
            url = cluster.url
        }
        try await withClient(url: url) { client in
            let files = try MigrationFile.loadDefault()
            try await Migrator(
                client: client, files: files, functions: try MigrationFile.loadDefaultFunctions(), logger: quietLogger
            ).migrate()
            if url != runtimeURL(url) {
                try await DatabaseRoles.grantRuntime(
                    to: runtimeUser, password: nil, client: client, logger: quietLogger)
            }
        }
        return url
    }
}

private let runningCluster = Mutex<(EmbeddedPostgres, URL)?>(nil)

/// The login role the code under test runs as, a member of `otp_runtime` like production's.
let runtimeUser = EmbeddedPostgres.runtimeUser

/// `url` (the owner's) with the runtime role as its user; the embedded cluster trusts local logins.
/// A `DATABASE_URL` of the operator's is used as it is: its roles are the operator's to set up.
func runtimeURL(_ url: String) -> String {
    if let configured = ProcessInfo.processInfo.environment["DATABASE_URL"], !configured.isEmpty { return url }
    return url.replacingOccurrences(of: #"//[^@/]+@"#, with: "//\(runtimeUser)@", options: .regularExpression)
}

let quietLogger = Logger(label: "otp.test.quiet", factory: { _ in SwiftLogNoOpLogHandler() })

/// A pool on `url` for the duration of `body`.
func withClient<Result: Sendable>(
    url: String, logger: Logger = quietLogger, _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: try PostgresClient.Configuration(url: url), backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// A pool on the shared, migrated test database, or on a database of its own: tests that run a
/// delivery worker need one, since a worker claims every queued delivery it can see.
func withTestClient<Result: Sendable>(
    ownDatabase: Bool = false, _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    try await withTestDatabase(ownDatabase: ownDatabase) { client, _ in try await body(client) }
}

/// Like `withTestClient`, also giving the database's URL (for processes the test starts).
func withTestDatabase<Result: Sendable>(
    ownDatabase: Bool = false, _ body: @Sendable (PostgresClient, String) async throws -> Result
) async throws -> Result {
    let shared = try await TestDatabase.shared.url()
    guard ownDatabase else { return try await withClient(url: shared) { try await body($0, shared) } }
    let name = "test_" + String(Int.random(in: 0..<1_000_000_000))
    try await withClient(url: shared) { client in
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quietLogger)
    }
    let url = shared.replacingOccurrences(of: #"/[^/?]+(\?|$)"#, with: "/\(name)$1", options: .regularExpression)
    let result: Result
    do {
        result = try await withClient(url: url) { client in
            let files = try MigrationFile.loadDefault()
            try await Migrator(
                client: client, files: files, functions: try MigrationFile.loadDefaultFunctions(), logger: quietLogger
            ).migrate()
            return try await body(client, url)
        }
    } catch {
        try? await dropDatabase(name, url: shared)
        throw error
    }
    try await dropDatabase(name, url: shared)
    return result
}

func dropDatabase(_ name: String, url: String) async throws {
    try await withClient(url: url) { client in
        try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: quietLogger)
    }
}
