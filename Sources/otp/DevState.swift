import Foundation
import Logging
import OTPCore
import OTPDashboard
import OTPPostgres
import OTPServices
import PostgresNIO

/// What `otp dev` keeps between runs in its folder: the server key and the demo app and key ids.
/// The demo secret is not stored: it is derived from the key id and the server key.
enum DevState {
    struct Demo: Codable {
        var appid: String
        var keyID: String
        /// The demo user's dashboard password (development only; the database has its hash).
        var password: String?
    }

    static let demoEmail = "demo@example.com"

    /// `OTP_SECRET_KEYS` or `OTP_SECRET_KEY` when set, else the one generated into `secret.key` on
    /// the first run.
    static func serverKeys(in folder: URL, settings: Settings) throws -> ServerKeys {
        if settings.value("OTP_SECRET_KEY") != nil || settings.value("OTP_SECRET_KEYS") != nil {
            return try settings.serverKeys()
        }
        let file = folder.appendingPathComponent("secret.key")
        if let text = try? String(contentsOf: file, encoding: .utf8) { return try ServerKeys(base64: text) }
        let secret = ServerKeys.generateSecret()
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        return try ServerKeys(base64: secret)
    }

    /// Migrates, makes sure the demo app and key exist, and prints how to use them.
    static func prepare(
        client: PostgresClient, folder: URL, keys: ServerKeys, host: String, port: Int, databaseURL: String,
        runtimePassword: String?, logger: Logger
    ) async throws {
        let files = try MigrationFile.loadDefault()
        try await Migrator(
            client: client, files: files, functions: try MigrationFile.loadDefaultFunctions(),
            logger: Logger(label: "otp.migrate")
        ).migrate()
        // The same two roles as production: the service logs in as a member of otp_runtime.
        try await DatabaseRoles.grantRuntime(
            to: EmbeddedPostgres.runtimeUser, password: runtimePassword, client: client, logger: logger)
        let secrets = APIKeySecrets(keys: keys)
        var demo = try await demo(
            in: folder, directory: PostgresDirectory(client: client, logger: logger), secrets: secrets)
        let password = try await demoUser(
            &demo, in: folder, users: PostgresDashboardUsers(client: client, logger: logger))
        // The demo key's secret, opened from its seal: development only, for the walk-through.
        guard let key = try await PostgresDirectory(client: client, logger: logger).apiKey(id: demo.keyID),
            let secret = secrets.signingSecret(of: key)
        else { throw CommandError("the demo key's secret cannot be opened with this secret key") }
        // For the README's walk-through: `. .otp/demo.env` in another shell. Development only.
        let env = """
            OTP_URL=http://\(host):\(port)
            APPID=\(demo.appid)
            KEY_ID=\(demo.keyID)
            SECRET=\(secret)
            DATABASE_URL=\(databaseURL)
            DASHBOARD_EMAIL=\(demoEmail)
            DASHBOARD_PASSWORD=\(password)

            """
        _ = FileManager.default.createFile(
            atPath: folder.appendingPathComponent("demo.env").path, contents: Data(env.utf8),
            attributes: [.posixPermissions: 0o600])
        // Written straight to the file descriptor: print() would sit in a buffer when stdout is a file.
        FileHandle.standardOutput.write(
            Data(
                """

                otp is starting on http://\(host):\(port) with an embedded PostgreSQL in \(folder.path)
                Messages are printed here by the console provider.

                  appid       \(demo.appid)
                  key id      \(demo.keyID)
                  secret      \(secret)

                The dashboard: http://\(host):\(port)/dashboard/
                  email       \(demoEmail)
                  password    \(password)

                The same values are in \(folder.path)/demo.env (see the README's walk-through). Try:
                  curl -s -u '\(demo.keyID):\(secret)' http://\(host):\(port)/otp/send \\
                    -H 'Content-Type: application/json' -d '{"appid":"\(demo.appid)","recipient":"+14155550123"}'

                Press Ctrl-C to stop.


                """.utf8))
    }

    static func demoFile(in folder: URL) -> URL { folder.appendingPathComponent("demo.json") }

    static func save(_ demo: Demo, in folder: URL) throws {
        guard
            FileManager.default.createFile(
                atPath: demoFile(in: folder).path, contents: try JSONEncoder().encode(demo),
                attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
    }

    /// The demo user of the demo app's account, made on the first run with a random password;
    /// returns the password.
    static func demoUser(_ demo: inout Demo, in folder: URL, users: PostgresDashboardUsers) async throws -> String {
        if let password = demo.password, try await users.credentials(email: demoEmail) != nil { return password }
        let password = Identifiers.random(count: 16)
        if try await users.credentials(email: demoEmail) != nil {
            try await users.setPassword(email: demoEmail, passwordHash: try await Passwords.hash(password))
        } else {
            try await users.createUser(
                email: demoEmail, account: "demo", role: .owner, passwordHash: try await Passwords.hash(password))
        }
        demo.password = password
        try save(demo, in: folder)
        return password
    }

    /// The demo app and key of an earlier run when they still work, else new ones.
    static func demo(in folder: URL, directory: PostgresDirectory, secrets: APIKeySecrets) async throws -> Demo {
        if let data = try? Data(contentsOf: demoFile(in: folder)),
            let demo = try? JSONDecoder().decode(Demo.self, from: data),
            let key = try await directory.apiKey(id: demo.keyID), !key.revoked,
            try await directory.app(id: demo.appid) != nil
        {
            return demo
        }
        var policy = AppPolicy.default
        policy.senderName = "Demo"
        let app = try await directory.createApp(name: "Demo", account: "demo", policy: policy)
        let key = try await directory.createKey(appIDs: [app.id], secrets: secrets)
        let demo = Demo(appid: app.id, keyID: key.keyID)
        try save(demo, in: folder)
        return demo
    }
}
