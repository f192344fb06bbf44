import ArgumentParser
import Foundation
import Logging
import OTPPostgres
import OTPServices

/// `otp producers`: which database roles may call `otp.request_verification` for which account.
/// Runs as the schema's owner (`OTP_MIGRATE_DATABASE_URL`, else `DATABASE_URL`).
struct ProducersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producers",
        abstract: "Database roles that may request verifications from SQL, per account.",
        subcommands: [Grant.self, Revoke.self, List.self])

    static func withGrants<Result: Sendable>(_ body: @Sendable (ProducerGrants) async throws -> Result)
        async throws -> Result
    {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let logger = Logger(label: "otp.producers")
        do {
            return try await withPostgres(settings, url: try settings.migrationURL(), logger: logger) { client in
                try await body(ProducerGrants(client: client, logger: logger))
            }
        } catch let problem as ProducerGrants.Problem {
            throw CommandError(problem.description)
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a role (and its members) request verifications for an account's apps.")
        @Argument(help: "The database role.") var role: String
        @Option(help: "The account's name.") var account: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let (role, account) = (role, account)
            try await ProducersCommand.withGrants { try await $0.grant(role: role, account: account) }
            try Output.print(["granted": role, "account": account], json: json) { "granted \(role) for \(account)" }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take back a role's grant for an account.")
        @Argument(help: "The database role.") var role: String
        @Option(help: "The account's name.") var account: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let (role, account) = (role, account)
            let removed = try await ProducersCommand.withGrants { try await $0.revoke(role: role, account: account) }
            try Output.print(["revoked": role, "account": account], json: json) {
                removed ? "revoked \(role) for \(account)" : "\(role) had no grant for \(account)"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the producers' grants.")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let grants = try await ProducersCommand.withGrants { try await $0.list() }
            try Output.print(["producers": grants], json: json) {
                grants.map { "\($0.role)\t\($0.account)" }.joined(separator: "\n")
            }
        }
    }
}
