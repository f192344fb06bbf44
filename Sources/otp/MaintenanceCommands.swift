import ArgumentParser
import Foundation
import Logging
import OTPPostgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations from sql/ (safe to run twice, or on two hosts).")

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let files = try MigrationFile.load(from: MigrationFile.defaultDirectory())
        let logger = Logger(label: "otp.migrate")
        let applied = try await withPostgres(try settings.databaseConfiguration(), logger: logger) { client in
            try await Migrator(client: client, files: files, logger: logger).migrate()
        }
        try Output.print(["applied": applied], json: json) {
            applied.isEmpty ? "database is current" : "applied \(applied.joined(separator: ", "))"
        }
    }
}

struct ExpireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expire",
        abstract: "Expire pending codes past their time and sweep stale keys (idempotent; run every minute).")

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let logger = Logger(label: "otp.cron")
        let report = try await withPostgres(try settings.databaseConfiguration(), logger: logger) { client in
            try await PostgresMaintenance(client: client, logger: logger).expire()
        }
        try Output.print(report, json: json) { "expired \(report.expiredVerifications) verifications" }
    }
}

/// Command output: one JSON object with `--json`, a line of text otherwise.
enum Output {
    static func print(_ value: some Encodable, json: Bool, text: () -> String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            Swift.print(text())
        }
    }
}
