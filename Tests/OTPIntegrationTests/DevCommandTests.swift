import Foundation
import OTPCore
import OTPPostgres
import PostgresNIO
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `otp dev` is for one developer's machine: its PostgreSQL asks for a password, and it does not
/// listen beyond loopback unless told to.
@Suite struct DevCommandTests {
    @Test func theDevClusterAsksForAPasswordEvenAfterARestart() async throws {
        let folder = NSTemporaryDirectory() + "otp-dev-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)  // the cluster runs as postgres when the tests run as root
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for run in 1...2 {
            let dev = try SpawnedProcess.start(
                ["dev", "--database-only", "--directory", folder + "/.otp"], environment: ["OTP_LOG_LEVEL": "warning"])
            try await waitUntil(seconds: 60) { dev.log.contains("DATABASE_URL=") }
            let line = try #require(dev.log.split(separator: "\n").first { $0.hasPrefix("DATABASE_URL=") })
            let url = String(line.dropFirst("DATABASE_URL=".count))
            #expect(url.contains("otp:"), "the owner's URL carries its password")
            // One connection each (a pool would retry a refused login for its whole timeout).
            let connected = try await Self.connect(url)
            #expect(connected == nil, "run \(run): with the password: \(connected ?? "")")
            let withoutPassword = url.replacingOccurrences(
                of: #"//otp:[^@]+@"#, with: "//otp@", options: .regularExpression)
            #expect(try await Self.connect(withoutPassword) != nil, "run \(run): no login without the password")
            #expect(await dev.signalAndWait(SIGINT, seconds: 30))
        }
    }

    /// Why a login to `url` failed; nil when it worked.
    static func connect(_ url: String) async throws -> String? {
        let parsed = try PostgresURL(url)
        let configuration = PostgresConnection.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password?.exposed,
            database: parsed.database, tls: .disable)
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: 1, logger: quietLogger)
            try await connection.close()
            return nil
        } catch {
            return String(reflecting: error)
        }
    }

    @Test func devRefusesToListenBeyondLoopbackUnlessAllowed() async throws {
        let dev = try SpawnedProcess.start(
            ["dev", "--directory", NSTemporaryDirectory() + "otp-dev-\(UUID().uuidString)"],
            environment: ["OTP_HTTP_ADDRESS": "0.0.0.0:0"])
        #expect(await dev.waitForExit(seconds: 30) == 1)
        #expect(dev.log.contains("--allow-remote"), "\(dev.log)")
    }
}
