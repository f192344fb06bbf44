import ArgumentParser
import Foundation
import Logging
import OTPCore
import OTPPostgres
import OTPServices

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations from sql/ (safe to run twice, or on two hosts).")

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let files = try MigrationFile.loadDefault()
        let logger = Logger(label: "otp.migrate")
        // As the owner: OTP_MIGRATE_DATABASE_URL, else DATABASE_URL. serve and work log in with
        // DATABASE_URL's user, made a member of otp_runtime here.
        let owner = try settings.migrationURL()
        let runtime = try settings.databaseURL()
        let retention = try settings.retentionDays()
        let applied = try await withPostgres(settings, url: owner, logger: logger) { client in
            let applied = try await Migrator(
                client: client, files: files, functions: try MigrationFile.loadDefaultFunctions(), logger: logger
            ).migrate()
            try await DatabaseRoles.setRetention(days: retention, client: client, logger: logger)
            _ = try await PostgresMaintenance(client: client, logger: logger).makePartitions()
            if runtime.username != owner.username {
                try await DatabaseRoles.grantRuntime(
                    to: runtime.username, password: runtime.password?.exposed, client: client, logger: logger)
            }
            return applied
        }
        if runtime.username == owner.username {
            FileHandle.standardError.write(
                Data(
                    ("note: serve and work would log in as the schema's owner (\(owner.username)), who can rewrite the "
                        + "audit trail; set OTP_MIGRATE_DATABASE_URL to the owner and DATABASE_URL to a role of their own\n")
                        .utf8))
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
        let report = try await withPostgres(settings, logger: logger) { client in
            try await PostgresMaintenance(client: client, logger: logger).expire()
        }
        try Output.print(report, json: json) { "expired \(report.expiredVerifications) verifications" }
    }
}

struct RollupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollup",
        abstract: "Roll up daily reports (default: yesterday, UTC). Upserts: reruns and backfills give the same rows.")

    @Option(help: "One UTC day, YYYY-MM-DD.") var day: String?
    @Option(help: "Every UTC day from this one (YYYY-MM-DD) to today.") var since: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if day != nil && since != nil { throw CommandError("give --day or --since, not both") }
        for text in [day, since].compactMap({ $0 }) where UTCDay.parse(text) == nil {
            throw CommandError("\(text) is not a day in the form YYYY-MM-DD")
        }
    }

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let days = try UTCDay.range(day: day, since: since, now: Date())
        let logger = Logger(label: "otp.cron")
        let rows = try await withPostgres(settings, logger: logger) { client in
            try await PostgresMaintenance(client: client, logger: logger).rollup(days: days)
        }
        try Output.print(["days": days.count, "rows": rows], json: json) {
            "rolled up \(days.count) day(s), \(rows) row(s)"
        }
    }
}

struct PartitionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "Make the weekly partitions of the history tables ahead of time (idempotent; run daily).")

    @Option(help: "Make them for this many weeks after the current one.") var weeksAhead = 8
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (0...520).contains(weeksAhead) else { throw CommandError("--weeks-ahead must be 0 to 520") }
    }

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let logger = Logger(label: "otp.cron")
        let made = try await withPostgres(settings, logger: logger) { client in
            try await PostgresMaintenance(client: client, logger: logger).makePartitions(weeksAhead: weeksAhead)
        }
        try Output.print(["made": made], json: json) { "made \(made) partition(s)" }
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: """
            Drop the weeks of attempts and events past the retention (default 90 days), and delete older deliveries \
            in batches.
            """)

    @Option(help: "Keep this many days (default: OTP_RETENTION_DAYS, else 90).") var days: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let retention = try days ?? settings.retentionDays()
        guard retention >= 1 else { throw CommandError("retention must be at least one day") }
        let logger = Logger(label: "otp.cron")
        let report = try await withPostgres(settings, logger: logger) { client in
            try await PostgresMaintenance(client: client, logger: logger).prune(olderThanDays: retention)
        }
        try Output.print(report, json: json) {
            "pruned rows older than \(retention) days, \(report.droppedPartitions.count) weekly partition(s) dropped "
                + "(the audit trail keeps what otp migrate set from OTP_RETENTION_DAYS)"
        }
    }
}

extension UTCDay {
    /// `--day`, or every day from `--since` to today, or yesterday.
    static func range(day: String?, since: String?, now: Date) throws -> [String] {
        if let day { return [day] }
        guard let since, let start = parse(since) else { return [format(now.addingTimeInterval(-86_400))] }
        guard start <= now else { throw CommandError("--since is in the future") }
        var days: [String] = []
        var cursor = start
        while cursor <= now && days.count < 3660 {
            days.append(format(cursor))
            cursor = cursor.addingTimeInterval(86_400)
        }
        return days
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

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit trail's hash chain.", subcommands: [Seal.self, Verify.self])

    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chain the events written since the last run (idempotent; run every minute).")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let settings = Settings()
            Bootstrap.logging(level: try settings.logLevel())
            let logger = Logger(label: "otp.cron")
            let sealed = try await withPostgres(settings, logger: logger) { client in
                try await AuditTrail(client: client, logger: logger).seal()
            }
            try Output.print(["sealed": sealed], json: json) { "sealed \(sealed) events" }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the chain; exits 1 at the first event that was changed, removed or slipped in.")
        @Option(help: "Check from this UTC day (YYYY-MM-DD) on.") var since: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if let since, UTCDay.parse(since) == nil {
                throw CommandError("\(since) is not a day in the form YYYY-MM-DD")
            }
        }

        func run() async throws {
            let settings = Settings()
            Bootstrap.logging(level: try settings.logLevel())
            let logger = Logger(label: "otp.audit")
            let since = since
            let verdict = try await withPostgres(settings, logger: logger) { client in
                try await AuditTrail(client: client, logger: logger).verify(since: since)
            }
            try Output.print(verdict, json: json) {
                guard let broken = verdict.brokenAt else { return "intact: \(verdict.checked) events checked" }
                return "broken at event \(broken): \(verdict.reason ?? "") (\(verdict.checked) events before it hold)"
            }
            if !verdict.intact { throw ExitCode(1) }
        }
    }
}

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Record what Twilio billed for the messages of the last two days (idempotent; run every 10 minutes).")

    @Option(help: "The most messages to look up in one run.") var limit = 1000
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let logger = Logger(label: "otp.cron")
        guard settings.value("TWILIO_ACCOUNT_SID") != nil else {
            try Output.print(BilledPrices.Report(), json: json) { "no provider to ask: TWILIO_ACCOUNT_SID is not set" }
            return
        }
        let limit = limit
        let report = try await ProviderSetup.withHTTPClient { http in
            try await withPostgres(settings, logger: logger) { client in
                try await BilledPrices(settings: settings, httpClient: http, client: client, logger: logger)?
                    .run(limit: limit) ?? BilledPrices.Report()
            }
        }
        try Output.print(report, json: json) { "looked up \(report.looked) messages, priced \(report.priced)" }
    }
}
