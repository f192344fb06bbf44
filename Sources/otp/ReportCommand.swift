import ArgumentParser
import Foundation
import Logging
import OTPCore
import OTPPostgres
import OTPServices

/// `otp report`: a day's report as files, for cron (after the day's rollup).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a UTC day's report as CSV or self-contained HTML (atomically; a rerun gives the same file).")

    @Option(help: "The UTC day, YYYY-MM-DD (default: yesterday).") var day: String?
    @Option(help: "Only this app (default: every app).") var appid: String?
    @Option(help: "csv or html.") var format: ReportFiles.Format
    @Option(help: "The folder to write to (made when missing).") var out: String
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let day, UTCDay.parse(day) == nil { throw CommandError("--day must be YYYY-MM-DD") }
    }

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let logger = Logger(label: "otp.cron")
        let day = day ?? UTCDay.format(Date().addingTimeInterval(-86_400))
        let (appid, format) = (appid, format)
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        let file = try await withPostgres(settings, logger: logger) { client in
            let apps = try await PostgresDirectory(client: client, logger: logger).listApps().map(\.app.id)
            if let appid, !apps.contains(appid) { throw CommandError("no app \(appid)") }
            return try await ReportFiles(management: PostgresManagementStore(client: client, logger: logger)).write(
                day: day, appIDs: appid.map { [$0] } ?? apps, appID: appid, format: format, to: folder)
        }
        try Output.print(["written": file.path], json: json) { "wrote \(file.path)" }
    }
}

extension ReportFiles.Format: ExpressibleByArgument {}
