import Foundation
import OTPCore
import Testing

/// `serve` and `work` refuse to start without their migrations, in one line, instead of running
/// with a `/readyz` that can never pass.
@Suite struct StartupTests {
    @Test(arguments: ["serve", "work"])
    func missingMigrationsStopTheStartWithOneLine(command: String) async throws {
        let empty = NSTemporaryDirectory() + "otp-no-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        for (folder, expected) in [
            ("/nonexistent-\(UUID().uuidString)", "does not exist"), (empty, "no migrations in \(empty)"),
        ] {
            let process = try SpawnedProcess.start(
                [command],
                environment: [
                    "OTP_MIGRATIONS_DIR": folder, "DATABASE_URL": "postgres://otp@127.0.0.1:1/otp?sslmode=disable",
                    "OTP_SECRET_KEY": ServerKeys.generateSecret(), "OTP_SMS_PROVIDERS": "console",
                    "OTP_ALLOW_CONSOLE_PROVIDER": "1",
                ])
            let status = await process.waitForExit(seconds: 15)
            #expect(status != nil && status != 0, "\(command) exits non-zero")
            let lines = process.log.split(separator: "\n")
            #expect(lines.count == 1, "one line: \(process.log)")
            #expect(process.log.contains("OTP_MIGRATIONS_DIR") && process.log.contains(expected), "\(process.log)")
        }
    }
}
